"""Weighted best approximation on a dense grid: the Remez exchange in mpmath.

A ``FitGrid`` holds about ``GRID_POINTS`` float64 points of [lo, hi]
(Chebyshev-distributed, endpoints included), the target there as a
double-double (``evaluators.reference``, 40 digits, cached on disk) and the
weight w (1 for absolute error, 1/|f| otherwise).  Approximations are kept in
the variable t = (x - mid) / half, which maps [lo, hi] onto [-1, 1], as mpmath
coefficient tuples; they are evaluated on the grid in double-double, so
weighted errors far below 1e-16 (down to about 1e-30 of f) are resolved.

``remez(grid, m, n)`` is the discrete Remez exchange for the best weighted
approximation p/q (deg p <= m, deg q <= n, q(mid) = 1) on the grid: at each
step the levelled equations p(t_i) - f_i q(t_i) = (-1)^i E q(t_i) / w_i on
m + n + 2 reference points are solved in mpmath (for n > 0 by the usual
linearisation, q on the right taken from the previous step; where that puts a
pole on the interval, q restarts from the eigenvalue form of the equations),
then the reference moves to the alternating extrema of the error (a window of
them that holds the largest).  It stops when max|error| and |E| agree to
``tol``; fits that do not converge (defective types, poles) give None.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import mpmath
import numpy as np

from ..primitives import doubledouble as ddm

from .reference import reference

GRID_POINTS = 3000
DPS = 40
INNER = 2         # linearisation steps per exchange (rational fits)
ACCEPT = 0.01     # a fit is kept if its levelled error is within 1% of its max error


def mp_to_dd(v) -> tuple[float, float]:
    hi = float(v)
    return hi, float(v - hi)


@dataclass(frozen=True)
class Rational:
    """p/q in the variable t, coefficients ascending; ``den == ()`` for a polynomial."""

    num: tuple
    den: tuple = ()


class FitGrid:
    """The dense grid, target values and weights that all fits of one problem share."""

    def __init__(self, target, lo: float, hi: float, relative: bool, n: int = GRID_POINTS):
        self.target, self.lo, self.hi, self.relative = target, lo, hi, relative
        k = np.arange(n - 2)
        x = (lo + hi) / 2 - (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / (n - 2))
        x = np.unique(np.clip(np.concatenate([[lo, hi], x]), lo, hi))
        f = reference(target, x)
        ok = np.isfinite(f[0]) & ((f[0] != 0) | (not relative))
        self.x = x[ok]
        self.f = (f[0][ok], f[1][ok])
        self.w = 1.0 / np.abs(self.f[0]) if relative else np.ones_like(self.x)
        # weighted errors below this are at the references' precision: exact fits
        self.floor = 1e-28 * float(np.max(np.abs(self.f[0]) * self.w, initial=0.0))
        with mpmath.workdps(DPS):
            self.mid = (mpmath.mpf(lo) + mpmath.mpf(hi)) / 2
            self.half = (mpmath.mpf(hi) - mpmath.mpf(lo)) / 2
            ts = [mp_to_dd((mpmath.mpf(v) - self.mid) / self.half) for v in self.x.tolist()]
        self.t = (np.array([a for a, _ in ts]), np.array([b for _, b in ts]))

    def __len__(self) -> int:
        return len(self.x)

    def mp_t(self, i: int):
        return mpmath.mpf(self.t[0][i]) + self.t[1][i]

    def mp_f(self, i: int):
        return mpmath.mpf(self.f[0][i]) + self.f[1][i]

    @cached_property
    def x_dd(self):
        return ddm.dd(self.x)

    # ----------------------------------------------------------- evaluation
    def poly(self, coeffs, var) -> tuple:
        """Horner in double-double on the grid; ``var`` is self.t or self.x_dd."""
        n = len(var[0])
        acc = (np.zeros(n), np.zeros(n))
        for c in reversed(coeffs):
            h, l = mp_to_dd(c)
            acc = ddm.dd_add(ddm.dd_mul(acc, var), (np.full(n, h), np.full(n, l)))
        return acc

    def value(self, r: Rational, var=None) -> tuple:
        var = self.t if var is None else var
        p = self.poly(r.num, var)
        return ddm.dd_div(p, self.poly(r.den, var)) if len(r.den) > 1 else p

    def error(self, r: Rational, var=None) -> np.ndarray:
        """Signed weighted error w * (r - f) at every grid point."""
        d = ddm.dd_sub(self.value(r, var), self.f)
        with np.errstate(all="ignore"):
            return (d[0] + d[1]) * self.w

    def max_error(self, r: Rational, var=None) -> float:
        e = np.abs(self.error(r, var))
        return float(e.max()) if np.all(np.isfinite(e)) else float("inf")


# ------------------------------------------------------------------ Remez
def _gauss(a: list, b: list) -> list:
    """Solve a x = b (lists of mpf) by Gaussian elimination with partial pivoting."""
    n = len(b)
    a = [row[:] + [b[i]] for i, row in enumerate(a)]
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(a[i][k]))
        if a[p][k] == 0:
            raise ZeroDivisionError("singular Remez system")
        a[k], a[p] = a[p], a[k]
        piv = a[k]
        for i in range(k + 1, n):
            f = a[i][k] / piv[k]
            if f:
                row = a[i]
                for j in range(k + 1, n + 1):
                    row[j] -= f * piv[j]
    x = [mpmath.mpf(0)] * n
    for k in reversed(range(n)):
        x[k] = (a[k][n] - mpmath.fsum(a[k][j] * x[j] for j in range(k + 1, n))) / a[k][k]
    return x


def _solve(grid: FitGrid, idx, m: int, n: int, qv: list):
    """Levelled equations at the reference ``idx`` with q fixed to ``qv`` on the right."""
    rows, rhs = [], []
    for i, j in enumerate(idx):
        t, f = grid.mp_t(j), grid.mp_f(j)
        pw = [t ** k for k in range(max(m, n) + 1)]
        s = 1 if i % 2 == 0 else -1
        rows.append(pw[: m + 1] + [-f * pw[k] for k in range(1, n + 1)] + [-s * qv[i] / grid.w[j]])
        rhs.append(f)
    sol = _gauss(rows, rhs)
    num, den = tuple(sol[: m + 1]), (mpmath.mpf(1), *sol[m + 1: m + 1 + n]) if n else ()
    return Rational(num, den), sol[-1]


def _alternating_extrema(e: np.ndarray) -> np.ndarray:
    """Index of the largest |e| in each maximal run of one sign."""
    s = np.sign(e)
    for i in range(1, len(s)):  # zeros join the run before them
        if s[i] == 0:
            s[i] = s[i - 1]
    starts = np.concatenate([[0], np.flatnonzero(s[1:] != s[:-1]) + 1, [len(e)]])
    a = np.abs(e)
    return np.array([b + int(np.argmax(a[b:c])) for b, c in zip(starts[:-1], starts[1:])])


def _initial_reference(grid: FitGrid, npts: int) -> np.ndarray | None:
    if len(grid) < npts:
        return None
    want = -np.cos(np.pi * np.arange(npts) / (npts - 1))
    idx = np.clip(np.searchsorted(grid.t[0], want), 0, len(grid) - 1)
    for i in range(1, npts):  # make strictly increasing
        idx[i] = max(idx[i], idx[i - 1] + 1)
    return None if idx[-1] >= len(grid) else idx


def _eig_start(grid: FitGrid, idx, m: int, n: int) -> Rational | None:
    """A denominator for the levelled equations from their eigenvalue form, in float64:
    eliminating p leaves A b = E B b; keep the solution whose q has no zero on the
    grid and the smallest |E|.  Only a starting point for the mpmath iteration."""
    import scipy.linalg

    t, f = grid.t[0][idx], grid.f[0][idx]
    s = (-1.0) ** np.arange(len(idx))
    vm = np.vander(t, m + 1, increasing=True)
    vn = np.vander(t, n + 1, increasing=True)
    qfull = np.linalg.qr(vm, mode="complete")[0][:, m + 1:]
    a = qfull.T @ (f[:, None] * vn)
    b = -qfull.T @ ((s / grid.w[idx])[:, None] * vn)
    with np.errstate(all="ignore"):
        lam, vec = scipy.linalg.eig(a, b)
    tg = np.vander(grid.t[0], n + 1, increasing=True)
    best = None
    for k in np.argsort(np.abs(lam)):
        if not np.isfinite(lam[k]) or abs(lam[k].imag) > 1e-8 * abs(lam[k]):
            continue
        bk = vec[:, k].real
        q = tg @ bk
        if bk[0] != 0 and (np.all(q > 0) or np.all(q < 0)):
            best = Rational((), tuple(mpmath.mpf(float(c / bk[0])) for c in bk))
            break
    return best


def _levelled(grid: FitGrid, idx, m: int, n: int, r_prev):
    """Solve the levelled equations at ``idx``; for n > 0 iterate the linearisation
    (q on the right from the previous step) up to INNER times, restarting from
    ``_eig_start`` if that puts a pole on the interval."""
    E = None
    for step in range(INNER if n else 1):
        qv = [mpmath.polyval(list(reversed(r_prev.den)), grid.mp_t(j)) for j in idx] \
            if n and r_prev and r_prev.den else [mpmath.mpf(1)] * len(idx)
        r, E_new = _solve(grid, idx, m, n, qv)
        if n and step == 0 and np.any(grid.poly(r.den, grid.t)[0] <= 0):
            r0 = _eig_start(grid, idx, m, n)
            if r0 is not None:
                qv = [mpmath.polyval(list(reversed(r0.den)), grid.mp_t(j)) for j in idx]
                r, E_new = _solve(grid, idx, m, n, qv)
        r_prev = r
        if E is not None and abs(E_new - E) <= 1e-12 * abs(E_new):
            return r, E_new
        E = E_new
    return r_prev, E


@dataclass(frozen=True)
class Best:
    """A converged Remez fit: the approximation, its max weighted error on the grid,
    the levelled error |E| and the final reference (grid indices)."""

    r: Rational
    error: float
    levelled: float
    ref: tuple


def remez(grid: FitGrid, m: int, n: int = 0, start: Best | None = None,
          tol: float = 1e-7, maxiter: int = 40) -> Best | None:
    """Best weighted approximation of type (m, n) on the grid, or None when the
    exchange does not converge (levelled and max error 1% apart or more).
    ``start``: a converged fit with as many reference points (m + n + 2), e.g. of
    type (m + 1, n - 1), whose reference and denominator start the exchange;
    failing that, it starts from Chebyshev points."""
    if start is not None and len(start.ref) == m + n + 2:
        den = (tuple(start.r.den) + (mpmath.mpf(0),) * (n + 1))[: n + 1] if n else ()
        got = _exchange(grid, m, n, np.array(start.ref), Rational((), den), tol, maxiter)
        if got:
            return got
    idx = _initial_reference(grid, m + n + 2)
    return _exchange(grid, m, n, idx, None, tol, maxiter) if idx is not None else None


def _exchange(grid: FitGrid, m: int, n: int, idx, r, tol: float, maxiter: int) -> Best | None:
    npts = m + n + 2
    best = None
    with mpmath.workdps(DPS):
        for _ in range(maxiter):
            try:
                r, E = _levelled(grid, idx, m, n, r)
            except ZeroDivisionError:
                break
            if n and np.any(grid.poly(r.den, grid.t)[0] <= 0):
                break  # a pole on the interval
            e = grid.error(r)
            emax = float(np.max(np.abs(e)))
            if not np.isfinite(emax):
                break
            gap = (emax - abs(float(E))) / emax if emax > grid.floor else 0.0
            if best is None or emax < best.error:
                best = Best(r, emax, abs(float(E)), tuple(int(i) for i in idx))
            if gap <= tol:
                break
            ext = _alternating_extrema(e)
            if len(ext) < npts:
                break
            top = int(np.argmax(np.abs(e[ext])))
            start = max(0, min(top - npts + 1, len(ext) - npts))
            idx = ext[start: start + npts]
    ok = best and (best.error <= grid.floor or best.error - best.levelled <= ACCEPT * best.error)
    return best if ok else None


# ------------------------------------------------------------------ change of variable
def affine_to_x(coeffs, a, b) -> list:
    """Coefficients in x of sum_k coeffs[k] * (a x + b)^k (mpmath, ascending)."""
    with mpmath.workdps(DPS):
        out = [mpmath.mpf(0)] * len(coeffs)
        for k, c in enumerate(coeffs):
            for j in range(k + 1):
                out[j] += c * mpmath.binomial(k, j) * a ** j * b ** (k - j)
    return out


def t_to_x(grid: FitGrid, coeffs) -> list:
    """Coefficients in x of a polynomial given in t = (x - mid) / half."""
    with mpmath.workdps(DPS):
        return affine_to_x(coeffs, 1 / grid.half, -grid.mid / grid.half)
