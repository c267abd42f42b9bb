"""The whole domain of a target in a format: every input a library kernel must serve.

``whole_domain(target, fmt)`` is the widest interval [lo, hi] of values of
the format (the hardware format, float64, for ``real``) on which the target
is *served*: at x, f(x) is real and, rounded to the format, finite and
either normal, exactly zero, or the value at a subnormal input (where f(x)
is about x, as for tanh, sin or erf; XLA on CPU flushes those anyway).  Beyond
the ends the function overflows, underflows into the subnormals, or is not
defined: exp in float32 gives [-87.3365, 88.7228] (e^x normal), tanh and sin
every finite float32, log (0, max].

How: f is evaluated in mpmath at ±2^e for every exponent e of the format
and at ±max and 0; the longest run of served points (in value order) is
taken, and each of its ends is found exactly by bisection over the format's
values in order (assuming, as for the functions a kernel serves, that the
served set changes once between two neighbouring scan points).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np

from ..primitives.formats import Format

from .targets import Target
from .values import OrderedValues

DPS = 40


def served(target: Target, fmt: Format, x: float) -> bool:
    """Whether f(x) is real, finite in ``fmt`` and normal, zero or at a subnormal x."""
    fmt = fmt.hardware
    try:
        with mpmath.workdps(DPS):
            v = target.mp(x)
            if not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
                return False
            f = float(v) if abs(v) < 2 ** 1100 else math.copysign(math.inf, v)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False
    r = float(fmt.round(np.array([f]))[0])
    if not math.isfinite(r):
        return False
    tiny = 2.0 ** fmt.emin
    return abs(r) >= tiny or v == 0 or abs(x) < tiny


def whole_domain(target: Target | str, fmt: Format) -> tuple[float, float]:
    """[lo, hi]: the widest run of the format's values on which ``target`` is
    served (see the module docstring).  Raises ValueError if it is served nowhere."""
    t = Target(target) if isinstance(target, str) else target
    fmt = fmt.hardware
    vs = OrderedValues(fmt)
    p = fmt.precision
    exps = range(fmt.emin - p + 1, math.frexp(fmt.max_finite)[1])
    pts = sorted({0.0, fmt.max_finite, -fmt.max_finite, *(s * 2.0 ** e for e in exps for s in (1.0, -1.0))})
    keys = [vs.key(x) for x in pts]
    ok = [served(t, fmt, x) for x in pts]
    best, run = None, None
    for i, good in enumerate(ok):
        if good:
            run = (run[0], i) if run else (i, i)
            if best is None or run[1] - run[0] > best[1] - best[0]:
                best = run
        else:
            run = None
    if best is None:
        raise ValueError(f"{t.text} is not finite at any {fmt.name} value tried")
    i, j = best

    def edge(good_k: int, bad_k: int) -> int:
        while abs(bad_k - good_k) > 1:
            mid = (good_k + bad_k) // 2
            if served(t, fmt, vs.value(mid)):
                good_k = mid
            else:
                bad_k = mid
        return good_k

    lo_k = keys[i] if i == 0 else edge(keys[i], keys[i - 1])
    hi_k = keys[j] if j == len(pts) - 1 else edge(keys[j], keys[j + 1])
    return vs.value(lo_k), vs.value(hi_k)
