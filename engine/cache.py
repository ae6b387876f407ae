"""A cache of methodology files already parsed and validated, so that `impact run` starts fast.

Parsing the catalogs' YAML with positions and validating them against their JSON Schemas takes most of a
run's time, and gives the same answer for the same bytes. A file that loads and validates cleanly is stored
as JSON (its data and the line and column of every node) under a key that hashes its bytes, the kind it was
validated as, every schema of the tree and this version of impact; any change to any of them misses the
cache. Only valid documents are stored, so every error is found by the real loader and validator, with its
exact message. The cache lives in $IMPACT_CACHE_DIR, else $XDG_CACHE_HOME/impact, else ~/.cache/impact;
IMPACT_CACHE=off turns it off.

The cache is untrusted input like any file, and a broken one costs time, never a wrong answer or a crash:

- the folder is created private (0700); one that is not a real directory owned by this user, or that the
  group or others may write, is not used at all (the cache is off for that run);
- an entry is opened without following links and without blocking, and used only if it is a regular file
  owned by this user, carries a valid check and is JSON of the expected shape. The check is an HMAC-SHA256,
  under a secret key kept in the folder (0600, `key`), of the entry's name (which hashes the source bytes,
  the kind, the schemas and the version) and the entry's stored bytes, verified before they are parsed.
  Content that was changed, truncated, copied from another entry or planted by someone who cannot read the
  key fails the check;
- an entry that is not used is removed and written again from the real loader's result; new entries are
  written through engine.safefile (an unpredictable temporary file created exclusively, then renamed).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path

from .errors import ImpactError, display_path
from .loader import Doc, load_bytes, read_regular

FORMAT = 4  # of an entry; part of its name, so entries of another format are never read
MAX_ENTRY = 256 * 1024 * 1024
_OPEN = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def directory() -> Path | None:
    """The cache folder this run may use, or None: turned off, or not private to this user."""
    if os.environ.get("IMPACT_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    if os.environ.get("IMPACT_CACHE_DIR"):
        folder = Path(os.environ["IMPACT_CACHE_DIR"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = Path(base) / "impact"
    return folder if _private(folder) else None


def _private(folder: Path) -> bool:
    """Create the folder (0700) if needed; True when it is a directory of ours that only we may write."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _secret(folder: Path) -> bytes | None:
    """The folder's key, created on first use; None when it cannot be trusted or made."""
    path = folder / "key"
    for _ in range(2):
        content = _read_entry(path, 64)
        if content is not None and len(content) == 32:
            return content
        with contextlib.suppress(OSError):
            os.unlink(path)  # not a key of ours: a link, a FIFO, the wrong size
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError:
            continue  # another run made it first: read that one
        try:
            os.write(fd, secrets.token_bytes(32))
        finally:
            os.close(fd)
    return None


def _read_entry(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file of ours at `path`, never through a link and never blocking; else None."""
    try:
        fd = os.open(path, _OPEN)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _check(secret: bytes, name: str, body: bytes) -> bytes:
    return hmac.new(secret, name.encode() + b"\0" + body, hashlib.sha256).hexdigest().encode()


def _marks(raw) -> tuple[dict, dict] | None:
    """(marks, keys) from their stored form [[path, line, column(, key line, key column)], ...] (the key's own
    position when it differs from the node's), or None when the shape is wrong. Called only once the entry's
    check verified, so it is what this module wrote: a cheap conversion suffices."""
    marks, keys = {}, {}
    try:
        for item in raw:
            parts = tuple(item[0])
            marks[parts] = (int(item[1]), int(item[2]))
            if len(item) == 5:
                keys[parts] = (int(item[3]), int(item[4]))
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return marks, keys


def _verified_json(stored: Path, limit: int, secret: bytes, name: str):
    """The JSON value of an entry (one line `<check>`, then the JSON), or None: unreadable, not a regular
    file, over `limit` bytes, a check that does not verify over the stored bytes (verified before parsing),
    or not JSON."""
    content = _read_entry(stored, limit)
    if content is None:
        return None
    check, newline, body = content.partition(b"\n")
    if not newline or not hmac.compare_digest(check, _check(secret, name, body)):
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _read(stored: Path, name: str, secret: bytes, path: Path) -> Doc | None:
    """The cached document, when the entry is a regular file whose check verifies and whose JSON has the
    expected shape. An entry is one line `<check>` then the JSON of {data, marks}; the check is verified
    over the stored bytes before they are parsed."""
    saved = _verified_json(stored, MAX_ENTRY, secret, name)
    if not isinstance(saved, dict) or set(saved) != {"data", "marks"} or not isinstance(saved["data"], dict):
        return None
    found = _marks(saved["marks"])
    if found is None:
        return None
    return Doc(display_path(path), saved["data"], found[0], path, found[1])


def load_validated(path: Path, kind: str, schemas) -> Doc:
    """The document at `path`, validated as `kind`: from the cache when these bytes were validated before."""
    shown = display_path(path)
    content = read_regular(path, shown)  # a FIFO, a device or a missing file is reported here, once
    folder = directory()
    secret = _secret(folder) if folder is not None else None
    if secret is None:
        return _load(content, shown, path, kind, schemas)
    from .. import __version__

    key = f"{FORMAT}\0{__version__}\0{kind}\0{schemas.fingerprint()}\0".encode() + content
    name = hashlib.sha256(key).hexdigest()
    stored = folder / f"{name}.json"
    doc = _read(stored, name, secret, path)
    if doc is not None:
        return doc
    doc = _load(content, shown, path, kind, schemas)
    _write(stored, name, secret, doc)
    return doc


def _write(stored: Path, name: str, secret: bytes, doc: Doc) -> None:
    """Store a valid document; any failure leaves the cache without it."""
    marks = []
    for parts, (line, column) in doc.marks.items():
        key = doc.keys.get(parts)
        marks.append([list(parts), line, column, *(key if key and key != (line, column) else ())])
    body = {"data": doc.data, "marks": marks}
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        encoded = text.encode("utf-8")
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(stored).st_mode):
                os.unlink(stored)  # a link, a FIFO, a directory entry planted here: replaced, never followed
        from .safefile import write_bytes

        write_bytes(stored, _check(secret, name, encoded) + b"\n" + encoded)
    except (OSError, ValueError, TypeError, RecursionError, ImpactError):
        pass


def _load(content: bytes, shown: str, path: Path, kind: str, schemas) -> Doc:
    doc = load_bytes(content, shown, path)
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


# ---- signed entries (engine.intensity keeps readings of live providers here): verified like the documents


SIGNED_BYTES = 1 << 20  # an entry is a few hundred bytes; anything larger is not one of ours


def read_signed(name: str) -> dict | None:
    """The JSON object stored under `name` (a hex digest), or None: absent, the cache off, an entry whose
    HMAC does not verify (tampered, truncated, planted, copied from another name), or not a JSON object."""
    folder = directory()
    secret = _secret(folder) if folder is not None else None
    if secret is None:
        return None
    data = _verified_json(folder / f"signed-{name}.json", SIGNED_BYTES, secret, name)
    return data if isinstance(data, dict) else None


def write_signed(name: str, data: dict) -> None:
    """Store `data` under `name` with its HMAC (through engine.safefile); a cache that cannot be written is
    ignored."""
    folder = directory()
    secret = _secret(folder) if folder is not None else None
    if secret is None:
        return
    stored = folder / f"signed-{name}.json"
    try:
        body = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(stored).st_mode):
                os.unlink(stored)  # a link or a FIFO planted here: replaced, never followed
        from .safefile import write_bytes

        write_bytes(stored, _check(secret, name, body) + b"\n" + body)
    except (OSError, ValueError, TypeError, ImpactError):
        pass
