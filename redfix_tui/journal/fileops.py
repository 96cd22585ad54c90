"""File-level steps of a safe journal write: the lock, snapshots, temp files and the swap.

Core module (never imports Textual).

- :func:`journal_lock` — ``fcntl.flock`` on ``.<name>.lock`` beside the journal, held around every
  read-merge-write, so redfix-tui processes (editors, ``journal add``) never interleave. The lock
  file stays in place (removing it would let two processes lock two different files).
- :class:`Snapshot`, :func:`read_snapshot`, :func:`unchanged` — what the journal was at the locked
  re-read (device, inode, size, mtime_ns and the bytes), and whether it still is.
- :func:`write_temp` — a fsynced temp file beside the journal (short writes looped).
- :func:`exchange` — ``renameat2(RENAME_EXCHANGE)``: the new file takes the journal's name and
  the file it displaced stays reachable under the temp name, so the writer can check that what it
  replaced is what it merged into. An editor that does not take the lock (vim) and saves in the
  moment between that check and the rename is then noticed and its file put back, instead of
  lost. Where the kernel or filesystem lacks it, :func:`exchange` returns False and the caller
  falls back to ``os.replace`` (the check-to-rename moment is then unguarded).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from redfix_tui.journal.errors import JournalError, NotRegularFileError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV}
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_RENAMEAT2 = _renameat2()


@dataclass(frozen=True)
class Snapshot:
    """A regular file as read: its identity and its bytes."""

    identity: tuple[int, int, int, int]
    """(st_dev, st_ino, st_size, st_mtime_ns) of the open file."""
    data: bytes


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def file_kind(mode: int) -> str:
    """Name what a non-regular ``st_mode`` is ("a FIFO", "a directory", …)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_regular(path: Path, shown: Path | None = None) -> os.stat_result | None:
    """``os.stat`` of ``path`` (None when missing); a non-regular file raises one clear line."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(
            f"journal {shown or path} is {file_kind(st.st_mode)}, not a regular file; "
            "nothing read or written (give --journal a file path)"
        )
    return st


def read_snapshot(path: Path, shown: Path | None = None) -> Snapshot | None:
    """Read ``path`` with its identity; None when missing. Never opens a FIFO or device."""
    if check_regular(path, shown) is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for something else since the stat
            check_regular(path, shown)
            raise NotRegularFileError(f"journal {shown or path} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return Snapshot(_identity(st), b"".join(chunks))
    finally:
        os.close(fd)


def unchanged(path: Path, snapshot: Snapshot | None) -> bool:
    """Whether ``path`` still is what ``snapshot`` read: same identity and same bytes."""
    try:
        now = read_snapshot(path)
    except (OSError, JournalError):
        return False
    if snapshot is None:
        return now is None and not os.path.lexists(path)
    return now is not None and now.identity == snapshot.identity and now.data == snapshot.data


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a write may be short)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_temp(
    target: Path, data: bytes, *, mode: int | None = None, owner: tuple[int, int] | None = None
) -> tuple[Path, Snapshot]:
    """Write ``data`` to a fsynced temp file beside ``target``; return its path and snapshot.

    ``mode`` (permission bits) is applied; without it the umask decides. ``owner`` (uid, gid) is
    applied when allowed (kept as ours otherwise). Nothing is left behind on failure.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        try:
            if owner is not None:
                with contextlib.suppress(PermissionError):  # only root may give files away
                    os.fchown(fd, *owner)
            if mode is not None:
                os.fchmod(fd, mode)
            write_all(fd, data)
            os.fsync(fd)
            snapshot = Snapshot(_identity(os.fstat(fd)), data)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, snapshot


def exchange(first: Path, second: Path) -> bool:
    """Atomically swap the names of two files; False where unsupported (nothing changed)."""
    if _RENAMEAT2 is None:
        return False
    a, b = os.fsencode(first), os.fsencode(second)
    if _RENAMEAT2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(second))


def fsync_dir(directory: Path) -> None:
    """fsync a directory so a rename in it is durable (skipped where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename itself is done
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, *, mode: int | None = None, owner: tuple[int, int] | None = None
) -> None:
    """Write ``data`` to ``path`` via a fsynced temp file in the same directory and a rename.

    Raises ``OSError`` on failure, leaving ``path`` untouched and no temp file behind.
    """
    tmp, _ = write_temp(path, data, mode=mode, owner=owner)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def lock_path(journal: Path) -> Path:
    """The lock file of ``journal``: ``.<name>.lock`` beside it."""
    return journal.with_name(f".{journal.name}.lock")


def _open_lock(journal: Path) -> int | None:
    """Open the lock file (created if needed); in a read-only directory, the journal itself."""
    path = lock_path(journal)
    flags = os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    for mode in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            fd = os.open(path, mode | flags, 0o666)
        except FileNotFoundError:
            break
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                continue
            raise JournalError(f"cannot open the journal's lock file {path}: {exc}") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotRegularFileError(
                f"lock file {path} is {file_kind(os.stat(path).st_mode)}; remove it and retry"
            )
        return fd
    # No lock file and none can be made here (read-only directory): lock the journal itself,
    # which nothing can rename away in such a directory.
    try:
        return os.open(journal, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None  # nothing to lock, and nothing can be written here either


@contextlib.contextmanager
def journal_lock(journal: Path, *, timeout: float = 30.0, what: str = "journal") -> Iterator[None]:
    """Hold the journal's cross-process lock; :class:`JournalError` after ``timeout`` seconds.

    Any file written by read-merge-write can use it (the M1 tracker does: ``what="tracker"``).
    """
    fd = _open_lock(journal)
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise JournalError(
                        f"{what} {journal} stayed locked by another redfix-tui for {timeout:g} s "
                        f"({lock_path(journal)}); nothing written, try again"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
        yield
    finally:
        os.close(fd)  # closing releases the lock
