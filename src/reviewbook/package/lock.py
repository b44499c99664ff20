"""One writer at a time: a lock on what a command writes, and SIGTERM as an exception.

``add-rows`` (the package folder), ``import-rows`` (the output folder) and
``book`` (``book/_build``) each hold an exclusive lock (``filelock``, an
``flock`` the kernel releases when the process ends, however it ends) on what
they write for the whole of the command: reading the package, numbering the
version in ``versions.csv`` and writing happen under it.  A second writer of the
same target waits up to :data:`LOCK_TIMEOUT` seconds, then stops with exit 2
and a message naming the target; nothing is written.

The lock files are never inside a package or a site: they live in
``$TMPDIR/reviewbook-locks-<uid>/``, one per target, named by the SHA-256 of the
target's absolute path (symbolic links resolved), so the package reader, the
validators and the downloads never see them.  (Writers of one target are thus
excluded on one machine and for one user; a package shared between accounts or
machines is not covered.)

:func:`terminated_as_exception` turns SIGTERM into :class:`Terminated` while a
command writes, so that its ``finally`` blocks remove temporary files and undo
half-done renames before the process exits (exit 143).
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import signal
import stat
import tempfile
import threading
from pathlib import Path

from ..errors import InputError, Problem

#: Seconds a second writer waits for the first before it stops (exit 2).
LOCK_TIMEOUT = 60.0
#: Environment variable that sets another wait, in seconds (a positive finite number; for tests).
TIMEOUT_VARIABLE = "REVIEWBOOK_LOCK_TIMEOUT"


class Terminated(BaseException):
    """SIGTERM arrived while a command was writing (exit 143 once cleaned up)."""


def lock_timeout() -> float:
    """:data:`LOCK_TIMEOUT`, or the value of :data:`TIMEOUT_VARIABLE` when that is a
    positive finite number of seconds."""
    text = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        value = float(text)
    except ValueError:
        return LOCK_TIMEOUT
    return value if math.isfinite(value) and value > 0 else LOCK_TIMEOUT


def lock_dir() -> Path:
    """The folder of the lock files: private to this user (mode 0700, owned by them,
    not a symbolic link), created when missing."""
    d = Path(tempfile.gettempdir()) / f"reviewbook-locks-{os.getuid()}"
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(d)
    except OSError as exc:
        raise InputError([Problem(str(d), None, None, f"a folder that cannot be created ({exc.strerror})",
                                  "a folder for the lock files of reviewbook (set TMPDIR)")]) from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise InputError([Problem(str(d), None, None, "a path that is not this user's private folder",
                                  "a folder of this user only, for the lock files of reviewbook (set TMPDIR)")])
    return d


def lock_path(target) -> Path:
    """The lock file of ``target`` (see the module docstring)."""
    key = str(Path(target).expanduser().resolve(strict=False))
    return lock_dir() / (hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".lock")


@contextlib.contextmanager
def writer_lock(target, what: str, *, timeout: float | None = None, log=None):
    """Hold the exclusive lock of ``target`` (``what`` names it in the messages);
    waits up to ``timeout`` (default :func:`lock_timeout`) seconds, then raises
    :class:`InputError` (exit 2).  ``log``: called once with a line when the lock
    is busy and the command waits."""
    from filelock import FileLock, Timeout

    wait = lock_timeout() if timeout is None else timeout
    lock = FileLock(str(lock_path(target)), timeout=wait, mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if log is not None:
            log(f"waiting up to {wait:g} s for another reviewbook command writing {what}")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise InputError([Problem(str(target), None, None,
                                      f"another reviewbook command writing {what} (waited {wait:g} s)",
                                      "one writer at a time: run it again when the other has finished "
                                      "(nothing was written)")]) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def sigterm_held():
    """Within the block SIGTERM is blocked (delivered when the block ends), for
    steps that must not be cut in two, such as the renames that put files in place."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def terminated_as_exception():
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread
    (so ``finally`` blocks clean up); the previous handler is restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
