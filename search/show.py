"""Bounded, one-line renderings of user values for error messages.

``show(v)`` is ``repr(v)`` cut to a length (a huge list, a long string, a
deep or self-referencing structure from YAML aliases all give a short
line); ``one_line(msg)`` makes any message a single bounded line.
"""
from __future__ import annotations

import reprlib

MAX_MESSAGE = 400

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlong = 40


def show(v, n: int = 80) -> str:
    """repr of ``v``, at most ``n`` characters, on one line."""
    try:
        s = _repr.repr(v)
    except Exception:      # a hostile __repr__ cannot come from YAML or JSON, but stay safe
        s = f"<{type(v).__name__}>"
    s = s.replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= n else s[: n - 3] + "..."


def one_line(msg: str, n: int = MAX_MESSAGE) -> str:
    """``msg`` on one line of at most ``n`` characters."""
    s = " ".join(str(msg).split())
    return s if len(s) <= n else s[: n - 3] + "..."
