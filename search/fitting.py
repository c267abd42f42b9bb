"""Constant fitting: minimise the max weighted error of a fixed program structure.

Two stages, from each start point (the parent's constants first, then
perturbations of them and fresh random values):

1. Levenberg-Marquardt on the least-squares error, then Lawson reweighting
   (weights grow where the error is largest), which moves the fit from L2
   towards minimax cheaply; every start gets this.
   Then, for fits that get the polish, where J diag(c) is ill-conditioned: a
   search along the flattest direction in log-scale constants (``_valley``:
   LM restarted from c * exp(t v)), which reaches the large constants of
   structures such as AutoNumerics-Zero's x + a/x reused and squared.
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

Where the compiled kernels are available (``primitives.kernels``), the
evaluations go through them, and each LM/Lawson run and each SLP polish is
one compiled call (``_fit_nb``): the LM is the NumPy one bit for bit, the
polish solves its LPs by a compiled dense simplex (``minimax_lp``; HiGHS,
called directly, where its check fails).  Switched off
(``kernels.use_kernels(False)``) everything runs in NumPy and
``scipy.optimize.linprog``: the reference path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..primitives import doubledouble as ddm
from ..primitives import kernels
from ..primitives.kernels import evaluate, value_and_jacobian

from . import minimax_lp


PRECISE_BELOW = 1e-11   # errors below this are measured in double-double, not float64


@dataclass(frozen=True)
class FitConfig:
    starts: int = 4            # start points per candidate (parent's constants first)
    lm_iters: int = 15         # plain least-squares LM steps
    lawson_iters: int = 10     # Lawson-reweighted steps (towards minimax)
    slp_iters: int = 20
    perturb: float = 0.3       # log-scale spread of perturbed starts
    valley_rounds: int = 4     # polished fits: rounds of the search along the flattest log-direction (0: none)
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
    ``lawson_iters`` steps with Lawson's update u_i <- u_i |r_i| (towards minimax).
    One compiled call where the kernels take the program, else ``_lm_numpy``."""
    code = kernels.encode(prog) if kernels.available() else None
    if code is not None:
        from . import _fit_nb
        x, f, w = fx
        try:
            bc, be = _fit_nb.lm(code.opc, code.args, code.arity, code.out, code.deps,
                                np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(f, dtype=np.float64),
                                np.ascontiguousarray(w, dtype=np.float64), np.array(c, dtype=np.float64),
                                iters, lawson_iters)
            return bc, float(be)
        except np.linalg.LinAlgError:
            pass  # SVD did not converge: the NumPy loop reaches the same step and stops there
    return _lm_numpy(prog, c, fx, iters, lawson_iters)


def _lm_numpy(prog, c, fx, iters, lawson_iters):
    """``_lm`` in NumPy (the reference)."""
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
    """SLP minimax polish from constants c: one compiled call where the kernels
    take the program and every LP is solved by the dense simplex, else
    ``_slp_numpy``."""
    code = kernels.encode(prog) if kernels.available() else None
    if code is not None:
        from . import _fit_nb
        x, f, w = fx
        a = [np.ascontiguousarray(v, dtype=np.float64) for v in (x, f, w, ref[0], ref[1])]
        try:
            cb, e, done = _fit_nb.slp(code.opc, code.args, code.arity, code.out, code.deps, *a,
                                      np.array(c, dtype=np.float64), iters, PRECISE_BELOW)
            if done:
                return cb, float(e)
        except np.linalg.LinAlgError:
            pass
    return _slp_numpy(prog, c, fx, ref, iters)


def _slp_numpy(prog, c, fx, ref, iters):
    """``_slp`` in NumPy, its LPs by ``minimax_lp.solve`` (linprog when the
    kernels are off: the reference path)."""
    k = len(c)
    direct = kernels.available()
    r, J = _resid_fast(prog, c, fx)
    e = _maxabs(r)
    if not np.isfinite(e):
        return c, np.inf
    precise = e < PRECISE_BELOW
    if precise:
        r = _resid_precise(prog, c, fx, ref)
        e = _maxabs(r)
    rho = 0.5
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
        sol = minimax_lp.solve(A, bvec, rho, direct)
        if sol is None:
            break
        step, pred = sol[:k] * scale, sol[k] * e
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


VALLEY_COND = 1e-3            # the valley search runs where sigma_min / sigma_max of J diag(c) is below this
VALLEY_STEPS = (-2.0, -0.5, 0.5, 2.0)


def _valley(prog, c, e, fx, cfg: FitConfig):
    """Follow a flat valley of the error in log-scale constants.

    Structures such as AutoNumerics-Zero's (x + a/x reused, then squared) have
    a family of near-equivalent constants along which the error falls slowly,
    often towards magnitudes of 1e3 to 1e5 (c1 ~ c0^2, c2 ~ c0, ...): LM, whose
    steps are additive, crawls along it.  Here the direction is the right
    singular vector v of J diag(c) with the least singular value (a
    multiplicative change c * exp(t v) that moves the residual least); LM is
    restarted from c * exp(t v) for a few t, and the best result kept, for
    up to ``cfg.valley_rounds`` rounds while it improves.  Runs only where
    that singular value is below ``VALLEY_COND`` of the largest (an
    ill-conditioned fit) and the error is above ``PRECISE_BELOW``, and only
    for programs with a division: the valleys come from rationals (a common
    factor of numerator and denominator, a + c/x with c and the scale of x
    trading off), while polynomials are ill-conditioned in the monomial basis
    without one and would pay four LM runs per polish for nothing
    (benchmarks/fitter.py: horner5's ratio is 1.7e-6)."""
    if not any(i.op == "div" for i in prog.instrs):
        return c, e
    for _ in range(cfg.valley_rounds):
        if not (np.isfinite(e) and e > PRECISE_BELOW):
            break
        r, J = _resid_fast(prog, c, fx)
        Jl = J * c[None, :]
        if not np.all(np.isfinite(Jl)):
            break
        try:
            S, Vt = np.linalg.svd(Jl, full_matrices=False)[1:]
        except np.linalg.LinAlgError:
            break
        if not (S[0] > 0 and S[-1] < VALLEY_COND * S[0]):
            break
        v = Vt[-1]
        best_c, best_e = c, e
        for t in VALLEY_STEPS:
            cc, ee = _lm(prog, c * np.exp(t * v), fx, cfg.lm_iters, cfg.lawson_iters)
            if ee < best_e:
                best_c, best_e = cc, ee
        if not best_e < 0.9 * e:
            break
        c, e = best_c, best_e
    return c, e


def trust_fit(prog, c, fx, rounds: int = 6, nfev: int = 100):
    """Least squares from ``c`` by a trust region in relative steps, c (1 + q) (1 + q for a zero
    constant), whose radius starts tiny (scipy's ``trf``, ``x_scale`` 1e-6) and grows with
    success; then ``rounds`` - 1 Lawson rounds (weights times sqrt(|r| / max |r|)) towards
    minimax.  A start from theory can lie where the error falls along a narrow valley that LM's
    long first steps leave for another least-squares minimum: for the centred
    AutoNumerics-Zero family squared twice (benchmarks/fitter.py, s10) LM from such a start
    stops at 7.7e-11, this at 3e-15.  Returns (constants, max |r|) of the best round."""
    from scipy.optimize import least_squares
    c0 = np.asarray(c, dtype=np.float64)
    sc = np.where(c0 != 0, np.abs(c0), 1.0)
    w = np.ones(len(fx[0]))
    q = np.zeros(len(c0))
    best_c, best_e = c0, np.inf
    memo: dict = {}

    def rj(q):      # residual and Jacobian at q, computed once (least_squares asks for them apart)
        key = q.tobytes()
        if key not in memo:
            memo.clear()
            memo[key] = _resid_fast(prog, c0 + q * sc, fx)
        return memo[key]
    with np.errstate(all="ignore"):
        for _ in range(rounds):
            fun = lambda q: rj(q)[0] * w
            jac = lambda q: rj(q)[1] * sc[None, :] * w[:, None]
            if not np.all(np.isfinite(fun(q))) or not np.all(np.isfinite(jac(q))):
                break
            try:
                q = least_squares(fun, q, jac=jac, method="trf", x_scale=1e-6, xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                  max_nfev=nfev).x
            except (ValueError, np.linalg.LinAlgError):
                break
            r = np.abs(rj(q)[0])
            if not np.all(np.isfinite(r)):
                break
            if r.max() < best_e:
                best_c, best_e = c0 + q * sc, float(r.max())
            w = w * np.sqrt(r / r.max()) + 1e-3 * w.mean()
            w /= w.mean()
    return best_c, best_e


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
            best_c, best_e = _valley(prog, best_c, best_e, fx, cfg)
            best_c, best_e = _slp(prog, best_c, fx, ref, cfg.slp_iters)
    return best_c, best_e


def polish(prog, fx, ref, cfg: FitConfig = FitConfig()):
    """Stage 2 alone from the program's own constants: the valley search
    (``_valley``, for ill-conditioned fits) then SLP minimax."""
    c0 = np.asarray(prog.consts, dtype=np.float64)
    if len(c0) == 0:
        return c0, _maxabs(_resid_precise(prog, c0, fx, ref))
    with np.errstate(all="ignore"):
        if cfg.valley_rounds:
            r = _resid_fast(prog, c0, fx)[0]
            c0 = _valley(prog, c0, _maxabs(r), fx, cfg)[0]
        return _slp(prog, c0, fx, ref, cfg.slp_iters)


def warm_up() -> bool:
    """Compile (or load from numba's cache) the evaluation and fitting kernels
    now; returns whether they are available."""
    if not kernels.warm_up():
        return False
    from ..primitives.program import parse_program
    p = parse_program("c0 = 1\nc1 = 0.5\nv0 = mul(x, c1)\nv1 = add(v0, c0)\nreturn v1")
    x = np.linspace(0.0, 1.0, 16)
    f = np.exp2(x)
    fit_constants(p, (x, f, 1 / f), (f, np.zeros_like(f)), np.random.default_rng(0))
    return True
