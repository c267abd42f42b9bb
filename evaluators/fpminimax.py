"""Polynomials with coefficients in a number format (Sollya's ``fpminimax`` problem).

Heuristic: start from the real minimax polynomial (monomial basis in x); then,
from the constant term up, round one coefficient to the format, trying both
neighbouring format values, and refit the coefficients not yet rounded by a
weighted linear minimax (a linear program on the grid, in an orthonormalised
basis so it stays well conditioned); keep the neighbour whose refit is better.
Errors are in real arithmetic (coefficients exact, no evaluation rounding),
on the ``FitGrid``, with its weight.
"""
from __future__ import annotations

import mpmath
import numpy as np

from ..primitives import doubledouble as ddm
from ..primitives.formats import Format

from .remez import DPS, FitGrid, Rational

LP_POINTS = 800


def next_value(r: float, up: bool, fmt: Format) -> float:
    """The format value next to the format value r, above it (up) or below it."""
    if fmt.precision is None or fmt.precision >= 53:
        return float(np.nextafter(r, np.inf if up else -np.inf))
    a = abs(r)
    if r == 0 or (r > 0) == up:  # away from zero
        mag = a + float(fmt.ulp(a))
    else:
        mag = a - float(fmt.ulp(a - float(fmt.ulp(a)) / 2))
    sign = (1.0 if up else -1.0) if r == 0 else float(np.sign(r))
    return sign * mag


def neighbours(v, fmt: Format) -> list[float]:
    """The one or two format values nearest v (an mpmath number), nearest first."""
    r = float(fmt.round(np.float64(float(v))))
    if not np.isfinite(r) or mpmath.mpf(r) == v:
        return [r]
    return [r, next_value(r, mpmath.mpf(r) < v, fmt)]


def _lp_refit(grid: FitGrid, sel, coeffs: list, free: list[int]):
    """Best weighted correction of the ``free`` coefficients (others fixed): (coeffs, error)."""
    from scipy.optimize import linprog
    x = grid.x[sel]
    p = grid.poly(coeffs, ddm.dd(x))
    d = ddm.dd_sub(p, (grid.f[0][sel], grid.f[1][sel]))
    r = -(d[0] + d[1]) * grid.w[sel]            # what the correction must add, weighted
    scale = float(np.max(np.abs(r))) or 1.0
    if not free:
        return coeffs, scale
    a = np.stack([grid.w[sel] * x ** k for k in free], axis=1)
    q, rr = np.linalg.qr(a)
    k, npts = len(free), len(x)
    # variables (z_1..z_k, tau): minimise tau with |r/scale - q z| <= tau
    cost = np.zeros(k + 1)
    cost[-1] = 1.0
    ones = np.ones((npts, 1))
    a_ub = np.vstack([np.hstack([q, -ones]), np.hstack([-q, -ones])])
    b_ub = np.concatenate([r / scale, -r / scale])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * k + [(0, None)], method="highs")
    if res.status != 0:
        return coeffs, scale
    delta = np.linalg.solve(rr, res.x[:k]) * scale
    out = list(coeffs)
    for j, dj in zip(free, delta):
        out[j] = out[j] + mpmath.mpf(float(dj))
    return out, float(res.x[-1]) * scale


def fpminimax(grid: FitGrid, coeffs_x: list, fmt: Format):
    """Round the x-coefficients of a minimax polynomial to ``fmt`` one at a time,
    refitting the rest: (rounded coefficients as floats, weighted max error on the grid)."""
    fmt = fmt.op_format   # a mixed format's coefficients are values of its compute format
    sel = np.unique(np.linspace(0, len(grid) - 1, min(LP_POINTS, len(grid))).astype(int))
    with mpmath.workdps(DPS):
        cur = [mpmath.mpf(c) for c in coeffs_x]
        for k in range(len(cur)):
            free = list(range(k + 1, len(cur)))
            best = None
            for cand in neighbours(cur[k], fmt):
                trial = cur[:k] + [mpmath.mpf(cand)] + cur[k + 1:]
                trial, err = _lp_refit(grid, sel, trial, free)
                if best is None or err < best[1]:
                    best = (trial, err)
            cur = best[0]
        floats = [float(c) for c in cur]
        err = grid.max_error(Rational(tuple(mpmath.mpf(c) for c in floats)), grid.x_dd)
    return floats, err
