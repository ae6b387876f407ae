"""Every file impact writes goes through here, so that no write loses data or replaces what was not ours.

The rule for a target path, checked before anything is written:
- a new path in an existing folder, or an existing regular file (which is replaced whole, keeping its
  permissions), is written;
- a symbolic link is refused, never followed or replaced: a link planted where output goes cannot redirect it;
- a directory, a device (`/dev/full`), a FIFO or a socket is refused: it is not a file to replace.

The content goes to a temporary file created exclusively (`O_EXCL`, an unpredictable name from `tempfile`) in the
target's own folder, is flushed and fsynced, and is renamed over the target only when complete, so a reader never
sees half a file and a failure leaves the old one in place. The temporary file is removed on any error, on
SIGTERM and on SIGINT (Ctrl-C). Problems are `ImpactError`s located at `where` (the option that named the path).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import ImpactError, Location, Problem
from .loader import file_kind

EXPECTED = "a new file in an existing folder, or an existing regular file to replace"
_LIVE: set[str] = set()  # temporary files being written, removed if a signal ends the process


def check_target(path: str | os.PathLike, where: Location | None = None) -> Path:
    """The target as a Path when it may be written (see the module docstring); else an ImpactError."""
    path = Path(path)
    where = where or Location(None, path=str(path))
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ImpactError(Problem(where, f"cannot inspect {path}: {exc.strerror}", EXPECTED)) from None
    if info is not None:
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            what = "a symbolic link (impact never writes through one)"
        elif stat.S_ISDIR(mode):
            what = "a directory"
        elif not stat.S_ISREG(mode):
            what = file_kind(mode) + ", not a regular file"
        else:
            what = None
        if what:
            raise ImpactError(Problem(where, f"{path} is {what}", EXPECTED))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImpactError(Problem(where, f"the folder {folder} does not exist", EXPECTED))
    return path


@contextlib.contextmanager
def replacing(path: str | os.PathLike, where: Location | None = None, binary: bool = False,
              encoding: str = "utf-8") -> Iterator:  # fmt: skip
    """A file object whose content replaces `path` when the block ends without an exception."""
    target = check_target(path, where)
    where = where or Location(None, path=str(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.",
                                   suffix=".tmp")  # fmt: skip
    except OSError as exc:
        raise ImpactError(Problem(where, f"cannot write in {target.parent}: {exc.strerror}", EXPECTED)) from None
    _LIVE.add(tmp)
    previous = _guard_signals()
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": encoding, "newline": ""})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(target, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise ImpactError(Problem(where, f"cannot write {target}: {exc.strerror or exc}", EXPECTED)) from None
    finally:
        _LIVE.discard(tmp)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _restore_signals(previous)


def write_text(path: str | os.PathLike, text: str, where: Location | None = None) -> None:
    with replacing(path, where) as fh:
        fh.write(text)


def write_bytes(path: str | os.PathLike, data: bytes, where: Location | None = None) -> None:
    with replacing(path, where, binary=True) as fh:
        fh.write(data)


def _keep_mode(target: Path, tmp: str) -> None:
    """The replaced file's permissions, or those a new file gets under the umask (mkstemp makes 0600)."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _cleanup_and_exit(signum, frame) -> None:
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _LIVE.clear()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _guard_signals():
    """Handlers that remove the temporary files on SIGTERM and SIGINT (main thread only; nested writes share)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        current = signal.getsignal(signum)
        if current is not _cleanup_and_exit:
            previous[signum] = current
            signal.signal(signum, _cleanup_and_exit)
    return previous


def _restore_signals(previous) -> None:
    if not previous:
        return
    for signum, handler in previous.items():
        signal.signal(signum, handler)
