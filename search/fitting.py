"""Constant fitting: minimise the max weighted error of a fixed program structure.

Two stages, from each start point (the parent's constants first, then
perturbations of them and fresh random values):

1. Levenberg-Marquardt on the least-squares error, then Lawson reweighting
   (weights grow where the error is largest), which moves the fit from L2
   towards minimax cheaply; every start gets this.
2. For the best start only: sequential linear programming for the true minimax: linearise the residual
   r(c + d) ~ r + J d and solve  min t  s.t. |r + J d| <= t, |d_j| <= D_j  (HiGHS),
   on the extremal points of the current residual, with a trust region D adjusted by the ratio of actual to predicted gain;
   residuals in units of the current error and each column of J scaled to max 1, so the LP stays
   well scaled down to errors of 1e-16.
   Residuals are taken in double-double once the error is below 1e-11, so the
   fit can go to the last bits of float64 constants.

Derivatives come from forward-mode evaluation (``value_and_jacobian``).
Constants are finally rounded to the run's format and the error is re-scored
in that format.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..primitives.interpret import evaluate, value_and_jacobian
from ..primitives import doubledouble as ddm


PRECISE_BELOW = 1e-11   # errors below this are measured in double-double, not float64


@dataclass(frozen=True)
class FitConfig:
    starts: int = 4            # start points per candidate (parent's constants first)
    lm_iters: int = 15         # plain least-squares LM steps
    lawson_iters: int = 10     # Lawson-reweighted steps (towards minimax)
    slp_iters: int = 20
    perturb: float = 0.3       # log-scale spread of perturbed starts
    round_evals: int = 40      # hardware formats: scorings for the search over rounded constants (roundfit)


def _resid_fast(prog, consts, fx):
    """Float64 residual and Jacobian.  Up to two points where they are not
    finite (removable singularities such as c/x at x = 0, whose value IEEE
    arithmetic gets right) are left out of the step; more make the fit fail."""
    x, f, w = fx
    v, J = value_and_jacobian(prog, x, consts)
    r, J = (v - f) * w, J * w[:, None]
    bad = ~np.isfinite(r) | ~np.isfinite(J).all(axis=1)
    if bad.any() and bad.sum() <= 2:
        r = np.where(bad, 0.0, r)
        J = np.where(bad[:, None], 0.0, J)
    return r, J


def _resid_precise(prog, consts, fx, ref):
    x, f, w = fx
    y = evaluate(prog, x, "real", consts)
    d = ddm.dd_sub(y, ref)
    return (d[0] + d[1]) * w


def _maxabs(r):
    m = np.max(np.abs(r)) if r.size else np.inf
    return m if np.isfinite(m) else np.inf


def _lm(prog, c, fx, iters, lawson_iters):
    """Levenberg-Marquardt on sum (u_i r_i)^2: u = 1 for ``iters`` steps, then
    ``lawson_iters`` steps with Lawson's update u_i <- u_i |r_i| (towards minimax)."""
    lam = 1e-3
    r, J = _resid_fast(prog, c, fx)
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(J))):
        return c, np.inf
    u = np.ones_like(r)
    best_c, best_e = c, _maxabs(r)
    k = len(c)
    it = 0
    while it < iters + lawson_iters:
        it += 1
        su = np.sqrt(u)
        A = J * su[:, None]
        d2 = np.sum(A * A, axis=0) + 1e-300
        Aaug = np.vstack([A, np.diag(np.sqrt(lam * d2))])
        baug = np.concatenate([-r * su, np.zeros(k)])
        if not (np.all(np.isfinite(Aaug)) and np.all(np.isfinite(baug))):
            break  # LAPACK would complain about NaNs
        try:
            step = np.linalg.lstsq(Aaug, baug, rcond=None)[0]
        except np.linalg.LinAlgError:
            break
        c_new = c + step
        r_new, J_new = _resid_fast(prog, c_new, fx)
        ok = np.all(np.isfinite(r_new)) and np.all(np.isfinite(J_new))
        if ok and np.sum(u * r_new**2) < np.sum(u * r**2):
            c, r, J = c_new, r_new, J_new
            lam = max(lam / 5, 1e-12)
            e = _maxabs(r)
            if e < best_e:
                best_c, best_e = c, e
            if it > iters:  # Lawson phase
                u = u * np.abs(r)
                t = u.sum()
                u = u / t if t > 0 and np.isfinite(t) else np.ones_like(r)
                u = np.maximum(u, 1e-9 / len(u)) * len(u)
        else:
            lam *= 8
            if lam > 1e10:
                if it > iters:
                    break
                lam = 1e-3
                it = iters  # LM stalled: go on to the Lawson phase from here
    return best_c, best_e


def _extremal(r, margin=2):
    """Indices of local maxima of |r| (and ends), with neighbours: the LP's points."""
    a = np.abs(r)
    n = len(a)
    peak = np.zeros(n, bool)
    peak[1:-1] = (a[1:-1] >= a[:-2]) & (a[1:-1] >= a[2:])
    peak[0] = peak[-1] = True
    peak &= a >= 0.05 * a.max()
    idx = np.flatnonzero(peak)
    near = (idx[:, None] + np.arange(-margin, margin + 1)[None, :]).ravel()
    return np.unique(near[(near >= 0) & (near < n)])


def _slp(prog, c, fx, ref, iters):
    from scipy.optimize import linprog

    k = len(c)
    r, J = _resid_fast(prog, c, fx)
    e = _maxabs(r)
    if not np.isfinite(e):
        return c, np.inf
    precise = e < PRECISE_BELOW
    if precise:
        r = _resid_precise(prog, c, fx, ref)
        e = _maxabs(r)
    rho = 0.5
    cobj = np.zeros(k + 1)
    cobj[-1] = 1.0
    for _ in range(iters):
        # on the extremal points only; residuals in units of the error e and each
        # column scaled to max 1, so a unit step of a variable moves the residual
        # by up to e (HiGHS tolerances are absolute: at e ~ 1e-14 raw columns
        # reach 1e13 and HiGHS gives up)
        sel = _extremal(r)
        Js = J[sel] / e
        scale = np.max(np.abs(Js), axis=0)
        scale = np.where(scale > 0, 1 / np.where(scale > 0, scale, 1), 0.0)
        Js = Js * scale
        ones = -np.ones((len(sel), 1))
        A = np.vstack([np.hstack([Js, ones]), np.hstack([-Js, ones])])
        bvec = np.concatenate([-r[sel] / e, r[sel] / e])
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(bvec))):
            break
        bounds = [(-rho, rho)] * k + [(0, None)]
        try:
            res = linprog(cobj, A_ub=A, b_ub=bvec, bounds=bounds, method="highs")
        except ValueError:
            break
        if res.status != 0:
            break
        step, pred = res.x[:k] * scale, res.x[k] * e
        if e - pred <= 1e-9 * e:
            break  # linear model predicts no gain: at a (local) minimax
        c_new = c + step
        if precise:
            r_new = _resid_precise(prog, c_new, fx, ref)
            J_new = None
        else:
            r_new, J_new = _resid_fast(prog, c_new, fx)
        e_new = _maxabs(r_new)
        ratio = (e - e_new) / (e - pred)
        if e_new < e:
            c, r, e = c_new, r_new, e_new
            if J_new is None:
                J = _resid_fast(prog, c, fx)[1]
            else:
                J = J_new
            if ratio > 0.75:
                rho = min(rho * 2, 10.0)
            elif ratio < 0.25:
                rho /= 2
            if not precise and e < PRECISE_BELOW:
                precise = True
                r = _resid_precise(prog, c, fx, ref)
                e = _maxabs(r)
        else:
            rho /= 4
        if rho < 1e-15:
            break
    return c, e


def random_constants(rng: np.random.Generator, k: int) -> np.ndarray:
    """Log-uniform magnitudes in [1e-2, 1e2] with random signs."""
    return rng.choice([-1.0, 1.0], k) * 10 ** rng.uniform(-2, 2, k)


def fit_constants(prog, fx, ref, rng: np.random.Generator, cfg: FitConfig = FitConfig(), polish: bool = True,
                  extra_starts=()):
    """Best constants found for ``prog`` and their (fit-grid) max weighted error.

    ``fx`` = (x, f_hi, w): fit points, reference (float64) and metric weights;
    ``ref`` = (hi, lo) reference at x, for double-double residuals.  All starts
    get LM + Lawson; the best one gets the SLP minimax polish if ``polish``.
    ``extra_starts``: more start points, tried after the program's own constants
    (e.g. ``chain.chain_start``).
    """
    c0 = np.asarray(prog.consts, dtype=np.float64)
    k = len(c0)
    if k == 0:
        return c0, _maxabs(_resid_precise(prog, c0, fx, ref))
    starts = [c0] + [np.asarray(s, dtype=np.float64) for s in extra_starts]
    for i in range(1, cfg.starts):
        if i % 2 == 1:
            flip = np.where(rng.random(k) < 0.1, -1.0, 1.0)
            starts.append(c0 * np.exp(rng.normal(0, cfg.perturb, k)) * flip + rng.normal(0, 1e-2, k))
        else:
            starts.append(random_constants(rng, k))
    best_c, best_e = c0, np.inf
    with np.errstate(all="ignore"):
        for s in starts:
            c, e = _lm(prog, s, fx, cfg.lm_iters, cfg.lawson_iters)
            if e < best_e:
                best_c, best_e = c, e
        if best_e < PRECISE_BELOW:
            # float64 residuals are rounding noise down here: LM may have "improved"
            # the given constants into worse ones; judge in double-double
            best_e = _maxabs(_resid_precise(prog, best_c, fx, ref))
            e0 = _maxabs(_resid_precise(prog, c0, fx, ref))
            if e0 <= best_e:
                best_c, best_e = c0, e0
        if polish and np.isfinite(best_e):
            best_c, best_e = _slp(prog, best_c, fx, ref, cfg.slp_iters)
    return best_c, best_e


def polish(prog, fx, ref, cfg: FitConfig = FitConfig()):
    """Stage 2 alone (SLP minimax) from the program's own constants."""
    c0 = np.asarray(prog.consts, dtype=np.float64)
    if len(c0) == 0:
        return c0, _maxabs(_resid_precise(prog, c0, fx, ref))
    with np.errstate(all="ignore"):
        return _slp(prog, c0, fx, ref, cfg.slp_iters)
