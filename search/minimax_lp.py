"""The SLP polish's linear program, without scipy's per-call overhead.

    min t  s.t.  A_ub [d; t] <= b_ub,  -rho <= d_j <= rho,  t >= 0

is what ``scipy.optimize.linprog(method="highs")`` solves for the polish
(the reference path); at a few dozen rows three quarters of its 1.3 ms go to
argument checking and conversion around HiGHS, and most of the rest to
HiGHS's set-up.  ``solve`` tries, in order:

1. a small dense primal simplex, compiled (``_fit_nb.minimax_lp``, ~10 us),
   accepted only with a final check from a fresh basis inverse (every
   constraint within 1e-9, every multiplier >= -1e-9): the same optimal t as
   HiGHS's to rounding, the same d where the optimum is unique;
2. HiGHS as scipy ships it, given the same model and options as linprog
   (dual simplex, presolve on) and linprog's final check (bounds and
   constraints within 10 sqrt(1e-9)): linprog's answer bit for bit;
3. ``linprog`` itself, should scipy's HiGHS bindings change.
"""
from __future__ import annotations

import numpy as np

_H: dict = {}


def _highs():
    if not _H:
        from scipy.optimize._highspy import _core as h
        o = h.HighsOptions()
        o.presolve = "on"
        o.output_flag = False
        o.log_to_console = False
        o.highs_debug_level = h.HighsDebugLevel.kHighsDebugLevelNone
        o.simplex_strategy = h.simplex_constants.SimplexStrategy.kSimplexStrategyDual
        _H.update(h=h, options=o)
    return _H["h"], _H["options"]


def _linprog(A, b, rho):
    from scipy.optimize import linprog
    k = A.shape[1] - 1
    c = np.zeros(k + 1)
    c[-1] = 1.0
    try:
        res = linprog(c, A_ub=A, b_ub=b, bounds=[(-rho, rho)] * k + [(0, None)], method="highs")
    except ValueError:
        return None
    return res.x if res.status == 0 else None


def _direct(A, b, rho):
    h, options = _highs()
    m, n = A.shape
    k = n - 1
    At = A.T
    nz = At != 0                       # CSC of A without explicit zeros, as scipy's csc_array
    lp = h.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.a_matrix_.format_ = h.MatrixFormat.kColwise
    cost = np.zeros(n)
    cost[-1] = 1.0
    lb = np.full(n, -rho)
    lb[-1] = 0.0
    ub = np.full(n, rho)
    ub[-1] = h.kHighsInf
    lp.col_cost_ = cost
    lp.col_lower_ = lb
    lp.col_upper_ = ub
    lp.row_lower_ = np.full(m, -h.kHighsInf)
    lp.row_upper_ = np.ascontiguousarray(b, dtype=np.float64)
    lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(nz.sum(axis=1)))).astype(np.int32)
    lp.a_matrix_.index_ = np.nonzero(nz)[1].astype(np.int32)
    lp.a_matrix_.value_ = At[nz]
    highs = h._Highs()
    if highs.passOptions(options) == h.HighsStatus.kError or highs.passModel(lp) == h.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model")
    if highs.run() == h.HighsStatus.kError or highs.getModelStatus() != h.HighsModelStatus.kOptimal:
        return None
    sol = highs.getSolution()
    x = np.array(sol.col_value)
    slack = b - np.array(sol.row_value)
    tol = np.sqrt(1e-9) * 10
    if (np.isnan(x).any() or np.isnan(slack).any() or (slack < -tol).any()
            or (x < lb - tol).any() or (x[:k] > rho + tol).any()):
        return None
    return x


def solve(A: np.ndarray, b: np.ndarray, rho: float, direct: bool = True):
    """The minimising [d; t] of the polish LP (``A`` has t's column last, -1 in
    every row), or None where linprog would report a status other than 0.
    ``direct=False``: linprog alone (the reference path)."""
    if direct:
        from ._fit_nb import minimax_lp
        z, ok = minimax_lp(np.ascontiguousarray(A, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64),
                           float(rho))
        if ok:
            return z
        try:
            return _direct(A, b, rho)
        except (ImportError, AttributeError, RuntimeError, TypeError):
            pass
    return _linprog(A, b, rho)
