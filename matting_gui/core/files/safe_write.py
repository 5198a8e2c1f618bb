"""The one way the project writes a file: apps, ``matting-cli`` and ``matting-lab`` alike.

Every file (exports, trimaps, recovery files, settings exports, plots, checkpoints, ONNX models,
model cards, reports, caches, desktop entries) is written whole to a new temporary file beside its
target (``mkstemp``: ``O_CREAT | O_EXCL``, so never an existing file and never through a link),
flushed, then renamed over the target: a reader sees the old file or the new one, never half of
one; a link planted at the target is replaced, its target untouched; an interrupted write leaves at
most the temporary ``.<name>.<random>.part``, which a signal handler's clean exit removes. Append-only
logs are the one exception to the rename (a line at a time): ``append_text`` opens them with
``O_NOFOLLOW`` and refuses anything but a regular file. Lock files are created with ``O_EXCL``
(``create_new``). ``tests/core/test_safe_write.py`` lists every module that writes and checks that
no other code opens a file for writing.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, briefly, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    On any failure the temp file is removed and an ``OSError`` with a one-line
    reason is raised; an existing file at ``path`` is left untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OSError(f"{path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OSError(f"{path}: cannot write in {folder} ({exc.strerror or exc})") from None
    try:
        # mkstemp creates 0600 files; give the result the permissions a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OSError(f"{path}: write failed ({exc.strerror or exc})") from None
        raise


def atomic_write_with(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """``write(temporary_path)`` then an atomic rename onto ``path``: for writers that insist on a file
    name of their own (``torch.save`` of a multi-GB checkpoint, without a copy in memory). The
    temporary file exists (empty, created exclusively) when ``write`` is called; errors as
    ``atomic_write_bytes``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OSError(f"{path}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_text(path: str | os.PathLike, text: str) -> None:
    """Append ``text`` to the log file at ``path`` (created 0644 if missing). Refuses a link
    (``O_NOFOLLOW``) and anything but a regular file (a FIFO would block): ``OSError``."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file; refusing to append to it")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "a", closefd=True) as f:
            fd = -1
            f.write(text)
    finally:
        if fd >= 0:
            os.close(fd)


def create_new(path: str | os.PathLike, text: str) -> bool:
    """Create ``path`` holding ``text`` only if nothing (not even a link) is there: True when created."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return True
