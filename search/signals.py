"""Stop signals as ordinary events: SIGTERM behaves like Ctrl-C from the first moment.

``install()`` makes SIGTERM (and SIGINT) raise ``KeyboardInterrupt`` in the
main thread, so every stage of a run (spec checks, Ray start-up, the loop)
stops through the same clean path.  ``deferred()`` holds a stop back while
a step that must not be cut in the middle runs (Ray's start-up: cut there it
can abort the process with a C++ dump); the stop is raised when it ends.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

STOPS = (signal.SIGINT, signal.SIGTERM)


def _raise(signum, frame):
    raise KeyboardInterrupt


def install() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is threading.main_thread():
        for s in STOPS:
            signal.signal(s, _raise)


def interrupted(e: BaseException) -> bool:
    """Whether ``e`` is a stop in disguise: a signal handled while compiled code
    (numba) called back into Python leaves its KeyboardInterrupt as the cause
    of a SystemError ("returned a result with an exception set")."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


@contextmanager
def deferred():
    """Run the body with stop signals recorded, not raised; raise KeyboardInterrupt after it if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: got.append(signum)) for s in STOPS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if got:
        raise KeyboardInterrupt
