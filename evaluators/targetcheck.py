"""Is a target usable on its interval?  Checked before a run starts.

``check_target(task)`` evaluates the target in mpmath at a few hundred points
of the interval (the ends, uniform and Chebyshev points of the format) and
raises ``TargetError`` naming a point where it is not defined, not real, or
not finite in the task's format, or when its reference would take too long
to compute on the run's grids.  ``check_grids(data)`` does the same on the
grids a run really scores (``TaskData``), which may hit a pole the probe missed.
A whole-domain task is finite on [lo, hi] by construction and is beyond it
on purpose (saturated references), so only the cost is checked there.
"""
from __future__ import annotations

import math
import time

import mpmath
import numpy as np

from .reference import REF_DPS, sample_grid
from .targets import Target, TargetError

PROBE_POINTS = 257
MAX_REFERENCE_SECONDS = 900.0    # estimated mpmath time for every grid point of a run
MAX_POINT_SECONDS = 2.0          # one reference value


def _bad(target: Target, x: float, why: str) -> TargetError:
    return TargetError(f"{target.text} {why} at x = {x!r} (in the interval); a target must be defined and "
                       f"finite on the whole interval")


def _interval(msg: str) -> TargetError:
    """An error that is the interval's (``key``: the spec key to name)."""
    e = TargetError(msg)
    e.key = "interval"
    return e


def _value(target: Target, x: float):
    """(value or None, why not)."""
    try:
        with mpmath.workdps(REF_DPS):
            v = target.mp(x)
    except ZeroDivisionError:
        return None, "divides by zero (a pole)"
    except (ValueError, OverflowError, TypeError) as e:
        return None, f"is not defined ({type(e).__name__})"
    if not isinstance(v, mpmath.mpf):
        return None, "is not real"
    if mpmath.isnan(v):
        return None, "is not defined (NaN)"
    if not mpmath.isfinite(v):
        return None, "is infinite (a pole or an overflow)"
    return v, ""


def check_target(task, cost_only: bool = False) -> None:
    """Raise ``TargetError`` if ``task``'s target is unusable on its interval
    (``cost_only``: only if its reference costs too much, as for a front read back)."""
    t = Target(task.target)
    fmt = task.fmt
    hw = fmt.hardware
    with np.errstate(all="ignore"):     # an interval spanning the whole float64 range overflows hi - lo
        pts = sample_grid(fmt, task.lo, task.hi, PROBE_POINTS)
    pts = np.unique(np.concatenate([[task.lo, task.hi], pts]))
    if len(pts) < 4 and not cost_only:
        raise _interval(f"[{task.lo!r}, {task.hi!r}] holds {len(pts)} {fmt.name} value(s); at least 4 "
                          f"are needed to fit and score a program")
    t0 = time.monotonic()
    slowest = 0.0
    vals = []
    for x in pts.tolist():
        s = time.monotonic()
        v, why = _value(t, x)
        slowest = max(slowest, time.monotonic() - s)
        if slowest > MAX_POINT_SECONDS:
            raise TargetError(f"{t.text}: one mpmath reference value took {slowest:.1f} s (at x = {x!r}); "
                              f"targets must cost under {MAX_POINT_SECONDS:g} s a point")
        if task.whole or cost_only:
            continue
        if v is None:
            raise _bad(t, x, why)
        vals.append(v)
        f = float(v) if abs(v) < 2 ** 1100 else math.copysign(math.inf, v)
        r = float(hw.round(np.array([f]))[0])
        if not math.isfinite(r):
            raise _interval(f"{t.text} = {mpmath.nstr(v, 6)} at x = {x!r} overflows {hw.name} (largest "
                              f"{hw.max_finite:g}); narrow the interval"
                              + (" or use interval: whole" if not fmt.is_real else ""))
    if vals:
        _check_sign_changes(t, pts.tolist(), vals)
    per_point = (time.monotonic() - t0) / len(pts)
    total = task.fit_points + task.score_points + task.verify_points
    if per_point * total > MAX_REFERENCE_SECONDS:
        raise TargetError(f"{t.text}: its mpmath reference costs {1e3 * per_point:.2g} ms a point, about "
                          f"{per_point * total / 60:.0f} min for the run's {total} grid points (limit "
                          f"{MAX_REFERENCE_SECONDS / 60:.0f} min); simplify it or lower evaluation.*_points")


def _check_sign_changes(t: Target, xs: list, vals: list) -> None:
    """A pole between probe points: where the target changes sign between two
    probes, bisect (in float64 x, mpmath values); a root lets |f| shrink, a
    pole (tan at pi/2, 1/(x - a)) leaves both ends of the bracket growing past
    any scale of the target.  Poles without a sign change are not sought."""
    scale = float(np.median([abs(float(v)) for v in vals])) or 1.0
    for (a, fa), (b, fb) in zip(zip(xs, vals), zip(xs[1:], vals[1:])):
        if not (fa * fb < 0):
            continue
        for _ in range(80):
            m = 0.5 * (a + b)
            if m in (a, b):
                break
            fm, why = _value(t, m)
            if fm is None:
                raise _bad(t, m, why)
            if fm == 0:
                break
            a, fa, b, fb = (a, fa, m, fm) if fa * fm < 0 else (m, fm, b, fb)
        else:
            continue
        if fa * fb < 0 and min(abs(float(fa)), abs(float(fb))) > 1e6 * scale:
            raise _bad(t, a, f"has a pole (it changes sign through {mpmath.nstr(fa, 3)} and "
                             f"{mpmath.nstr(fb, 3)} between neighbouring values)")


def check_grids(data) -> None:
    """Raise ``TargetError`` naming a point of ``data``'s grids (a ``TaskData``)
    in the interval where the reference is not finite."""
    task = data.task
    t = Target(task.target)
    for x, ref in ((data.x_fit, data.ref_fit), (data.x, data.ref)):
        inside = (x >= task.lo) & (x <= task.hi)
        bad = inside & ~np.isfinite(ref[0])
        if bad.any():
            x0 = float(x[np.flatnonzero(bad)[0]])
            v, why = _value(t, x0)
            raise _bad(t, x0, why or f"overflows {task.fmt.hardware.name}")
