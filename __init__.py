"""numsearch: evolutionary search for straight-line approximations of math functions.

Installed, this repository is the one package ``numsearch``: ``numsearch.primitives``
(formats, ops, programs), ``numsearch.evaluators`` (targets, metrics, baselines,
verification) and ``numsearch.search`` (the engine, the run loop, export, the CLI).
"""

__version__ = "0.1.0"
