"""A cache of methodology files already parsed and validated, so that `impact run` starts fast.

Parsing the catalogs' YAML with positions and validating them against their JSON Schemas takes most of a
run's time, and gives the same answer for the same bytes. A file that loads and validates cleanly is stored
as JSON (its data and the line and column of every node) under a key that hashes its bytes, the kind it was
validated as, every schema of the tree and this version of impact; any change to any of them misses the
cache. Only valid documents are stored, so every error is found by the real loader and validator, with its
exact message. The cache lives in $IMPACT_CACHE_DIR, else $XDG_CACHE_HOME/impact, else ~/.cache/impact;
IMPACT_CACHE=off turns it off. A cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .errors import display_path
from .loader import Doc, load_file


def directory() -> Path | None:
    if os.environ.get("IMPACT_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    if os.environ.get("IMPACT_CACHE_DIR"):
        return Path(os.environ["IMPACT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "impact"


def load_validated(path: Path, kind: str, schemas) -> Doc:
    """The document at `path`, validated as `kind`: from the cache when these bytes were validated before."""
    folder = directory()
    if folder is None:
        return _load(path, kind, schemas)
    try:
        content = path.read_bytes()
    except OSError:
        return _load(path, kind, schemas)  # the loader reports it
    from .. import __version__

    key = hashlib.sha256(f"{__version__}\0{kind}\0{schemas.fingerprint()}\0".encode() + content).hexdigest()
    stored = folder / f"{key}.json"
    try:
        saved = json.loads(stored.read_text(encoding="utf-8"))
        marks = {tuple(parts): (line, column) for parts, line, column in saved["marks"]}
        return Doc(display_path(path), saved["data"], marks, path)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    doc = _load(path, kind, schemas)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = stored.with_name(f".{key}.{os.getpid()}.tmp")
        marks = [[list(parts), line, column] for parts, (line, column) in doc.marks.items()]
        tmp.write_text(json.dumps({"data": doc.data, "marks": marks}), encoding="utf-8")
        os.replace(tmp, stored)
    except (OSError, ValueError, TypeError):
        pass
    return doc


def _load(path: Path, kind: str, schemas) -> Doc:
    doc = load_file(path)
    schemas.validate(doc, kind)
    return doc


# ---- small verdicts (engine.verify): a JSON object kept under a content hash


VERDICT_BYTES = 65536  # a verdict is a few hundred bytes; anything larger is not one of ours


def read_verdict(key: str) -> dict | None:
    """The verdict stored under `key` (a hex digest), or None: absent, the cache off, or an entry that is not a
    small regular file holding a JSON object with this key. Links are not followed and nothing blocks."""
    import stat

    folder = directory()
    if folder is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(folder / f"verdict-{key}.json", flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = os.read(fd, VERDICT_BYTES + 1)
        if len(raw) > VERDICT_BYTES:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return data if isinstance(data, dict) and data.get("key") == key else None


def write_verdict(key: str, verdict: dict) -> None:
    """Store `verdict` under `key` (through engine.safefile); a cache that cannot be written is ignored."""
    from .errors import ImpactError
    from .safefile import write_text

    folder = directory()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_text(folder / f"verdict-{key}.json", json.dumps({**verdict, "key": key}))
    except (OSError, ImpactError):
        pass
