"""Independent check of a program's error in mpmath (no NumPy in the loop).

Each instruction is evaluated with the op's exact real form (``Op.mp``) at
``dps`` significant digits, i.e. the program in real arithmetic, and compared
with the target at the same precision.  Used to confirm the figures in
front.json, not inside the search (it is ~1000x slower).
"""
from __future__ import annotations

import mpmath
import numpy as np

from ..primitives.interpret import walk
from ..primitives.ops import OPS


def _mp_step(op, args):
    if op == "div" and args[1] == 0:
        # IEEE semantics, as the interpreter: c/0 = +-inf (0/0 = nan), and
        # later c/inf = 0, so removable singularities such as c/x at x = 0
        # get the value hardware gives them
        return mpmath.nan if args[0] == 0 else mpmath.inf * mpmath.sign(args[0])
    return OPS[op].mp(*args)


def mp_program(prog, x):
    """The program at one mpmath point, in real arithmetic (current precision)."""
    return walk(prog, mpmath.mpf(x), [mpmath.mpf(c) for c in prog.consts], _mp_step)


def mp_max_error(prog, target, lo: float, hi: float, n: int = 5000, metric: str = "relative", dps: int = 50) -> float:
    """Max error of prog against target on n+1 equispaced points of [lo, hi]."""
    worst = mpmath.mpf(0)
    with mpmath.workdps(dps):
        for x in np.linspace(lo, hi, n + 1).tolist():
            f = target.mp(x)
            y = mp_program(prog, x)
            if not mpmath.isfinite(y):
                return float("inf")
            d = abs(y - f)
            if metric == "relative":
                if f == 0:
                    if d != 0:
                        return float("inf")
                    continue
                d = d / abs(f)
            elif metric != "absolute":
                raise ValueError(f"mp_max_error: metric {metric!r} not supported")
            worst = max(worst, d)
    return float(worst)
