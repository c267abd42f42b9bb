"""The fitter's loops as compiled calls (numba): LM/Lawson, SLP polish, its LP.

``lm`` is ``fitting._lm_numpy`` step for step: the residual and Jacobian
from the compiled forward-mode kernel (``primitives._kernels_nb.vjac``), the
damped least-squares step from LAPACK's ``gelsd`` (numba's
``np.linalg.lstsq``: the routine and the LAPACK build NumPy's uses, with
NumPy's default rcond), and sums in NumPy's pairwise order (``np_sum``), so
its fits are the reference's bit for bit (a Householder QR instead was 2x
faster per solve, but its rounding sent one LM run in ten down another
path).  ``slp`` is ``fitting._slp_numpy`` with ``minimax_lp``, a dense
simplex, for HiGHS.  Imported lazily by ``fitting`` (only with numba).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..primitives import _dd_nb, _kernels_nb
from ..primitives._nbcache import drop_stale

drop_stale(__file__, (_kernels_nb.__file__, _dd_nb.__file__))   # its cache holds their code too

from ..primitives._dd_nb import dd_sub, eval_dd  # noqa: E402
from ..primitives._kernels_nb import vjac_ws, workspace  # noqa: E402

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def _maxabs(r):
    """``fitting._maxabs``: max |r|, inf if any is NaN or inf (or r is empty)."""
    if r.size == 0:
        return np.inf
    m = 0.0
    for v in r:
        a = abs(v)
        if not np.isfinite(a):
            return np.inf
        if a > m:
            m = a
    return m


@njit(**_JIT)
def _block(a, lo, n):
    """NumPy's pairwise sum of a block a[lo:lo + n], n <= 128: 8 accumulators."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(**_JIT)
def np_sum(a):
    """``np.sum(a)`` bit for bit (a 1-d contiguous float64 array): NumPy's
    pairwise summation, blocks of up to 128 split in halves (multiples of 8),
    by an explicit stack (numba's on-disk cache mishandles recursion)."""
    n = a.shape[0]
    if n <= 128:
        return _block(a, 0, n)
    los = np.zeros(64, dtype=np.int64)
    ns = np.zeros(64, dtype=np.int64)
    stage = np.zeros(64, dtype=np.int64)
    left = np.zeros(64)
    sp = 0
    ns[0] = n
    ret = 0.0
    while sp >= 0:
        lo, m = los[sp], ns[sp]
        if m <= 128:
            ret = _block(a, lo, m)
            sp -= 1
            continue
        n2 = m // 2
        n2 -= n2 % 8
        if stage[sp] == 0:
            stage[sp] = 1
            sp += 1
            los[sp], ns[sp], stage[sp] = lo, n2, 0
        elif stage[sp] == 1:
            left[sp] = ret
            stage[sp] = 2
            sp += 1
            los[sp], ns[sp], stage[sp] = lo + n2, m - n2, 0
        else:
            ret = left[sp] + ret
            sp -= 1
    return ret


@njit(**_JIT)
def resid(opc, args, arity, out, deps, x, f, w, c, r, J, ws):
    """``fitting._resid_fast`` into (r, J); returns whether all are finite.
    ws: ``workspace`` for the program."""
    vjac_ws(opc, args, arity, out, deps, x, c, r, J, ws[0], ws[1], ws[2])
    n, k = J.shape
    nbad = 0
    bad = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        r[i] = (r[i] - f[i]) * w[i]
        ok = np.isfinite(r[i])
        for j in range(k):
            J[i, j] = J[i, j] * w[i]
            ok = ok and np.isfinite(J[i, j])
        if not ok:
            bad[i] = True
            nbad += 1
    if nbad > 0 and nbad <= 2:
        for i in range(n):
            if bad[i]:
                r[i] = 0.0
                J[i, :] = 0.0
        nbad = 0
    return nbad == 0


@njit(**_JIT)
def lm(opc, args, arity, out, deps, x, f, w, c0, iters, lawson_iters):
    """(best constants, their max |r|): LM on sum u_i r_i^2, u = 1 for
    ``iters`` steps, then ``lawson_iters`` steps with u_i <- u_i |r_i|."""
    n = x.shape[0]
    k = c0.shape[0]
    c = c0.copy()
    r = np.empty(n)
    J = np.empty((n, k))
    r_new = np.empty(n)
    J_new = np.empty((n, k))
    ws = workspace(n, k, opc.shape[0])
    lam = 1e-3
    if not resid(opc, args, arity, out, deps, x, f, w, c, r, J, ws):
        return c, np.inf
    u = np.ones(n)
    best_c = c.copy()
    best_e = _maxabs(r)
    rcond = np.finfo(np.float64).eps * (n + k)
    At = np.zeros((k, n + k))          # the augmented matrix, transposed
    baug = np.zeros(n + k)
    sq = np.empty(n)
    tmp = np.empty(n)
    it = 0
    while it < iters + lawson_iters:
        it += 1
        for i in range(n):
            sq[i] = np.sqrt(u[i])
        finite = True
        for j in range(k):
            d2 = 0.0
            row = At[j]
            for i in range(n):
                a = J[i, j] * sq[i]
                row[i] = a
                d2 += a * a
            row[n:] = 0.0
            row[n + j] = np.sqrt(lam * (d2 + 1e-300))
            finite = finite and np.isfinite(d2) and np.isfinite(row[n + j])
        for i in range(n):
            baug[i] = -r[i] * sq[i]
            finite = finite and np.isfinite(baug[i])
        baug[n:] = 0.0
        if not finite:
            break
        step = np.linalg.lstsq(At.T, baug, rcond)[0]
        c_new = c + step
        ok = resid(opc, args, arity, out, deps, x, f, w, c_new, r_new, J_new, ws)
        for i in range(n):
            tmp[i] = u[i] * (r_new[i] * r_new[i])
        s_new = np_sum(tmp)
        for i in range(n):
            tmp[i] = u[i] * (r[i] * r[i])
        s_old = np_sum(tmp)
        if ok and s_new < s_old:
            c = c_new
            r, r_new = r_new, r
            J, J_new = J_new, J
            lam = max(lam / 5, 1e-12)
            e = _maxabs(r)
            if e < best_e:
                best_c = c.copy()
                best_e = e
            if it > iters:  # Lawson phase
                for i in range(n):
                    u[i] = u[i] * abs(r[i])
                t = np_sum(u)
                if t > 0 and np.isfinite(t):
                    for i in range(n):
                        u[i] = max(u[i] / t, 1e-9 / n) * n
                else:
                    for i in range(n):
                        u[i] = max(1.0, 1e-9 / n) * n
        else:
            lam *= 8
            if lam > 1e10:
                if it > iters:
                    break
                lam = 1e-3
                it = iters
    return best_c, best_e


@njit(**_JIT)
def _matvec(G, z):
    out = np.zeros(G.shape[0])
    for i in range(G.shape[0]):
        t = 0.0
        for j in range(G.shape[1]):
            t += G[i, j] * z[j]
        out[i] = t
    return out


@njit(**_JIT)
def _basis_inverse(G, basis):
    """Inverse of the rows ``basis`` of G (Gauss-Jordan, partial pivoting);
    a NaN matrix where they are singular."""
    n = basis.shape[0]
    M = np.zeros((n, 2 * n))
    for i in range(n):
        for j in range(n):
            M[i, j] = G[basis[i], j]
        M[i, n + i] = 1.0
    for c in range(n):
        p = c
        for i in range(c + 1, n):
            if abs(M[i, c]) > abs(M[p, c]):
                p = i
        if M[p, c] == 0.0:
            return np.full((n, n), np.nan)
        if p != c:
            for j in range(2 * n):
                M[c, j], M[p, j] = M[p, j], M[c, j]
        piv = M[c, c]
        for j in range(2 * n):
            M[c, j] /= piv
        for i in range(n):
            if i != c and M[i, c] != 0.0:
                f = M[i, c]
                for j in range(2 * n):
                    M[i, j] -= f * M[c, j]
    return M[:, n:].copy()


@njit(**_JIT)
def minimax_lp(A, b, rho):
    """min z_k  s.t.  A z <= b,  |z_j| <= rho (j < k),  z_k >= 0  (k = A.shape[1] - 1),
    by the primal simplex method on the inequality form: from the vertex
    z_j = rho, z_k = the least feasible t, move along edges (the active
    constraint with the most negative multiplier leaves, the first blocking
    one enters; the basis inverse updated by Sherman-Morrison).  Returns
    (z, ok); ok False where it stops without a checked optimum (cycling,
    an unbounded or singular step, a final check failing): the caller then
    asks HiGHS."""
    m, n = A.shape
    k = n - 1
    M = m + 2 * k + 1
    G = np.zeros((M, n))
    h = np.zeros(M)
    G[:m] = A
    h[:m] = b
    for j in range(k):
        G[m + j, j] = 1.0
        h[m + j] = rho
        G[m + k + j, j] = -1.0
        h[m + k + j] = rho
    G[M - 1, k] = -1.0
    z = np.zeros(n)
    for j in range(k):
        z[j] = rho
    # t: the least value that makes every row feasible (rows of A have -1 on t)
    t = 0.0
    enter = M - 1
    for i in range(m):
        if G[i, k] >= 0.0:
            return z, False
        v = -h[i]
        for j in range(k):
            v += G[i, j] * z[j]
        v = v / -G[i, k]
        if v > t:
            t = v
            enter = i
    z[k] = t
    basis = np.empty(n, dtype=np.int64)
    for j in range(k):
        basis[j] = m + j
    basis[k] = enter
    inb = np.zeros(M, dtype=np.bool_)
    for j in range(n):
        inb[basis[j]] = True
    Binv = _basis_inverse(G, basis)
    s = h - _matvec(G, z)                     # slacks, >= 0
    tol = 1e-12
    p = 0
    for it in range(50 * n):
        if it % 16 == 15:
            Binv = _basis_inverse(G, basis)
        if not np.isfinite(Binv[0, 0]):
            return z, False
        # multipliers: G_B^T lam = -c, c = e_k
        p = -1
        lmin = -tol
        for j in range(n):
            lj = -Binv[k, j]
            if lj < lmin:
                lmin = lj
                p = j
        if p < 0:
            break
        dz = -Binv[:, p]
        gd = _matvec(G, dz)
        alpha = np.inf
        q = -1
        for i in range(M):
            if not inb[i] and gd[i] > tol:
                a = max(s[i], 0.0) / gd[i]
                if a < alpha:
                    alpha = a
                    q = i
        if q < 0:
            return z, False
        z += alpha * dz
        s -= alpha * gd
        # row p of G_B becomes G[q]: Sherman-Morrison on Binv
        # (1 + u^T Binv e_p = -G[q] . dz, u = G[q] - G[basis[p]])
        col = Binv[:, p].copy()
        u = G[q] - G[basis[p]]
        for j in range(n):
            wj = 0.0
            for i in range(n):
                wj += u[i] * Binv[i, j]
            wj /= -gd[q]
            for i in range(n):
                Binv[i, j] -= col[i] * wj
        inb[basis[p]] = False
        basis[p] = q
        inb[q] = True
    if p >= 0:
        return z, False  # iteration cap
    # final check: feasible and optimal from a fresh inverse
    Binv = _basis_inverse(G, basis)
    for j in range(n):
        if not -Binv[k, j] >= -1e-9:
            return z, False
    r = _matvec(G, z) - h
    for i in range(M):
        if not r[i] <= 1e-9:
            return z, False
    return z, True


@njit(**_JIT)
def resid_precise(opc, args, out, x, w, refh, refl, c, r):
    """``fitting._resid_precise`` into r: (double-double value - reference) * w."""
    n = x.shape[0]
    yh = np.empty(n)
    yl = np.empty(n)
    eval_dd(opc, args, out, x, c, yh, yl)
    for i in range(n):
        dh, dl = dd_sub(yh[i], yl[i], refh[i], refl[i])
        r[i] = (dh + dl) * w[i]


@njit(**_JIT)
def _extremal(r, margin):
    """``fitting._extremal``: local maxima of |r| (and the ends) within 5% of
    the largest, with ``margin`` neighbours each side, in increasing order."""
    n = r.shape[0]
    a = np.abs(r)
    top = 0.05 * a.max()
    keep = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        peak = i == 0 or i == n - 1 or (a[i] >= a[i - 1] and a[i] >= a[i + 1])
        if peak and a[i] >= top:
            for t in range(max(0, i - margin), min(n, i + margin + 1)):
                keep[t] = True
    return np.flatnonzero(keep)


@njit(**_JIT)
def slp(opc, args, arity, out, deps, x, f, w, refh, refl, c0, iters, precise_below):
    """``fitting._slp`` step for step with the dense LP (``minimax_lp``):
    (constants, error, done).  done is False where an LP needed HiGHS: the
    caller then runs ``fitting._slp`` (which asks HiGHS) from the start."""
    n = x.shape[0]
    k = c0.shape[0]
    c = c0.copy()
    r = np.empty(n)
    J = np.empty((n, k))
    r_new = np.empty(n)
    J_new = np.empty((n, k))
    ws = workspace(n, k, opc.shape[0])
    resid(opc, args, arity, out, deps, x, f, w, c, r, J, ws)
    e = _maxabs(r)
    if not np.isfinite(e):
        return c, np.inf, True
    precise = e < precise_below
    if precise:
        resid_precise(opc, args, out, x, w, refh, refl, c, r)
        e = _maxabs(r)
    rho = 0.5
    for _ in range(iters):
        sel = _extremal(r, 2)
        ms = sel.shape[0]
        Js = np.empty((ms, k))
        for t in range(ms):
            for j in range(k):
                Js[t, j] = J[sel[t], j] / e
        scale = np.zeros(k)
        for j in range(k):
            mx = 0.0
            for t in range(ms):
                v = abs(Js[t, j])
                if v > mx or np.isnan(v):
                    mx = v
            scale[j] = 1 / mx if mx > 0 else 0.0
        A = np.empty((2 * ms, k + 1))
        b = np.empty(2 * ms)
        finite = True
        for t in range(ms):
            for j in range(k):
                v = Js[t, j] * scale[j]
                A[t, j] = v
                A[ms + t, j] = -v
                finite = finite and np.isfinite(v)
            A[t, k] = -1.0
            A[ms + t, k] = -1.0
            b[t] = -r[sel[t]] / e
            b[ms + t] = r[sel[t]] / e
            finite = finite and np.isfinite(b[t])
        if not finite:
            break
        z, ok = minimax_lp(A, b, rho)
        if not ok:
            return c, e, False
        step = z[:k] * scale
        pred = z[k] * e
        if e - pred <= 1e-9 * e:
            break
        c_new = c + step
        if precise:
            resid_precise(opc, args, out, x, w, refh, refl, c_new, r_new)
        else:
            resid(opc, args, arity, out, deps, x, f, w, c_new, r_new, J_new, ws)
        e_new = _maxabs(r_new)
        ratio = (e - e_new) / (e - pred)
        if e_new < e:
            c = c_new
            r, r_new = r_new, r
            e = e_new
            if precise:
                resid(opc, args, arity, out, deps, x, f, w, c, r_new, J, ws)
            else:
                J, J_new = J_new, J
            if ratio > 0.75:
                rho = min(rho * 2, 10.0)
            elif ratio < 0.25:
                rho /= 2
            if not precise and e < precise_below:
                precise = True
                resid_precise(opc, args, out, x, w, refh, refl, c, r)
                e = _maxabs(r)
        else:
            rho /= 4
        if rho < 1e-15:
            break
    return c, e, True
