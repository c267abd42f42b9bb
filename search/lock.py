"""A run directory held by one run at a time.

``RunLock(out)`` takes an exclusive ``flock`` on ``out/.lock`` (created if
needed) or raises ``UserError`` naming the process that holds it.  The
kernel drops the lock when the holder exits, however it exits (SIGKILL
included), so a stale lock never blocks a resume.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import UserError

LOCK_NAME = ".lock"


class RunLock:
    def __init__(self, out: Path):
        self.path = Path(out) / LOCK_NAME
        self.fd: int | None = None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise UserError(f"out: cannot lock {self.path.parent} ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise UserError(f"out: {self.path.parent} is in use by another run (pid {holder}); wait for it to end "
                            f"or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
