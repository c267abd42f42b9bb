"""numsearch: evolutionary search for straight-line approximations of math functions.

Installed, this repository is the one package ``numsearch``: ``numsearch.primitives``
(formats, ops, programs), ``numsearch.evaluators`` (targets, metrics, baselines,
verification) and ``numsearch.search`` (the engine, the run loop, export, the CLI).
"""

__version__ = "0.1.0"

_API = ("run", "spec", "load_front", "examples", "Front", "Entry", "RunSpec", "UserError", "SpecError")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """The Python API (``numsearch.search.api``), imported on first use."""
    if name in _API:
        from .search import api
        return getattr(api, name)
    raise AttributeError(f"module 'numsearch' has no attribute {name!r}")
