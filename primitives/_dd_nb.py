"""The double-double evaluator of ``kernels`` (numba), and the max error.

The functions repeat ``doubledouble``'s and ``reduction``'s algorithms
element by element, including their guarded slow paths near overflow and
underflow, so results are bit for bit the NumPy interpreter's ``real``.
Compiled once for all programs (``cache=True``), like ``_kernels_nb``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _kernels_nb
from ._nbcache import drop_stale

drop_stale(__file__, (_kernels_nb.__file__,))   # its cache holds _kernels_nb's code too

from ._kernels_nb import (_JIT, ABS, ADD, COPYSIGN, DIV, EXPONENT, FMA, LDEXP, MIN, MUL, NEG, POW2, RINT,  # noqa: E402
                          SELECT, SIGNIFICAND, SUB, _copysign_f, _fast_two_sum, _ldexp_f, _max_f, _min_f, _signbit, _two_sum)

_SPLIT = 134217729.0
_DIV_TINY = 2.0 ** -960


@njit(**_JIT)
def _two_diff(a, b):
    s = a - b
    bb = s - a
    return s, (a - (s - bb)) - (b + bb)


@njit(**_JIT)
def _two_prod(a, b):
    p = a * b
    ca = _SPLIT * a
    ah = ca - (ca - a)
    al = a - ah
    cb = _SPLIT * b
    bh = cb - (cb - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@njit(**_JIT)
def _accumulate(s, e, t, f):
    e = e + t
    s, e = _fast_two_sum(s, e)
    e = e + f
    return _fast_two_sum(s, e)


@njit(**_JIT)
def _k_add(ah, al, bh, bl):
    s, e = _two_sum(ah, bh)
    t, f = _two_sum(al, bl)
    return _accumulate(s, e, t, f)


@njit(**_JIT)
def _k_sub(ah, al, bh, bl):
    s, e = _two_diff(ah, bh)
    t, f = _two_diff(al, bl)
    return _accumulate(s, e, t, f)


@njit(**_JIT)
def _k_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    e = e + (ah * bl + al * bh)
    return _fast_two_sum(p, e)


@njit(**_JIT)
def _k_mul_d(ah, al, d):
    p, e = _two_prod(ah, d)
    e = e + al * d
    return _fast_two_sum(p, e)


@njit(**_JIT)
def _k_div(ah, al, bh, bl):
    q1 = ah / bh
    mh, ml = _k_mul_d(bh, bl, q1)
    rh, rl = _k_sub(ah, al, mh, ml)
    q2 = rh / bh
    mh, ml = _k_mul_d(bh, bl, q2)
    rh, rl = _k_sub(rh, rl, mh, ml)
    q3 = rh / bh
    q1, q2 = _fast_two_sum(q1, q2)
    return _k_add(q1, q2, q3, 0.0)


@njit(**_JIT)
def _ldexp_dd(h, l, e):
    h = math.ldexp(h, np.int32(e))
    l = math.ldexp(l, np.int32(e))
    s, t = _fast_two_sum(h, l)
    if math.isinf(h):
        return h, 0.0
    return s, t


@njit(**_JIT)
def _frexp_dd(h, l):
    if not math.isfinite(h) or h == 0.0:
        return h, l, 0
    m, e = math.frexp(h)
    return m, math.ldexp(l, np.int32(-e)), e


@njit(**_JIT)
def dd_add(ah, al, bh, bl):
    h, l = _k_add(ah, al, bh, bl)
    if math.isfinite(h):
        return h, l
    if not (math.isfinite(ah) and math.isfinite(bh)):
        return ah + bh, 0.0
    h, l = _k_add(ah * 0.25, al * 0.25, bh * 0.25, bl * 0.25)
    return _ldexp_dd(h, l, 2)


@njit(**_JIT)
def dd_sub(ah, al, bh, bl):
    h, l = _k_sub(ah, al, bh, bl)
    if math.isfinite(h):
        return h, l
    if not (math.isfinite(ah) and math.isfinite(bh)):
        return ah - bh, 0.0
    h, l = _k_add(ah * 0.25, al * 0.25, -bh * 0.25, -bl * 0.25)
    return _ldexp_dd(h, l, 2)


@njit(**_JIT)
def dd_mul(ah, al, bh, bl):
    h, l = _k_mul(ah, al, bh, bl)
    if math.isfinite(h):
        return h, l
    if not (math.isfinite(ah) and math.isfinite(bh)):
        return ah * bh, 0.0
    sah, sal, ea = _frexp_dd(ah, al)
    sbh, sbl, eb = _frexp_dd(bh, bl)
    h, l = _k_mul(sah, sal, sbh, sbl)
    return _ldexp_dd(h, l, ea + eb)


@njit(**_JIT)
def dd_div(ah, al, bh, bl):
    h, l = _k_div(ah, al, bh, bl)
    tiny = abs(ah) < _DIV_TINY and ah != 0.0
    if math.isfinite(h) and not tiny:
        return h, l
    if not (math.isfinite(ah) and math.isfinite(bh)):
        return ah / bh, 0.0
    if ah == 0.0 or bh == 0.0:
        return ah / bh, 0.0
    sah, sal, ea = _frexp_dd(ah, al)
    sbh, sbl, eb = _frexp_dd(bh, bl)
    h, l = _k_div(sah, sal, sbh, sbl)
    return _ldexp_dd(h, l, ea - eb)


@njit(**_JIT)
def dd_fma(ah, al, bh, bl, ch, cl):
    ph, pl = _k_mul(ah, al, bh, bl)
    h, l = _k_add(ph, pl, ch, cl)
    if math.isfinite(h):
        return h, l
    if not (math.isfinite(ah) and math.isfinite(bh) and math.isfinite(ch)):
        if math.isinf(ch) and math.isfinite(ah) and math.isfinite(bh):
            return ch, 0.0
        return ah * bh + ch, 0.0
    if ah == 0.0 or bh == 0.0:
        return ah * bh + ch, cl
    if abs(ah) >= abs(bh):
        sa, sb = 0.25, 1.0
    else:
        sa, sb = 1.0, 0.25
    ph, pl = dd_mul(ah * sa, al * sa, bh * sb, bl * sb)
    h, l = dd_add(ph, pl, ch * 0.25, cl * 0.25)
    return _ldexp_dd(h, l, 2)


# reduction ops in double-double (reduction.dd_*)
@njit(**_JIT)
def _two_sum_g(a, b):
    """doubledouble.two_sum: e = 0 where s overflows."""
    s, e = _two_sum(a, b)
    if math.isfinite(e):
        return s, e
    if math.isfinite(s):
        if abs(a) < abs(b):
            return s, _fast_two_sum(b, a)[1]
        return s, _fast_two_sum(a, b)[1]
    if math.isinf(s):
        return s, 0.0
    return s, e


@njit(**_JIT)
def _norm(h, l):
    if l == 0.0:
        return h, 0.0
    return _two_sum_g(h, l)


@njit(**_JIT)
def _dd_exponent(h, l):
    hi, lo = _norm(h, l)
    if math.isfinite(hi) and hi != 0.0:
        m, e = math.frexp(hi)
    else:
        m, e = hi, 0
    below = abs(m) == 0.5 and lo != 0.0 and _signbit(lo) != _signbit(hi)
    return hi, lo, float(e - (1 if below else 0))


@njit(**_JIT)
def op_dd(o, ah, al, bh, bl, ch, cl):
    """The op in double-double (``Op.real``)."""
    if o == ADD:
        return dd_add(ah, al, bh, bl)
    if o == SUB:
        return dd_sub(ah, al, bh, bl)
    if o == MUL:
        return dd_mul(ah, al, bh, bl)
    if o == DIV:
        return dd_div(ah, al, bh, bl)
    if o == FMA:
        return dd_fma(ah, al, bh, bl, ch, cl)
    if o == NEG:
        return -ah, -al
    if o == RINT:
        hi, lo = _norm(ah, al)
        r = np.rint(hi)
        half = (hi - np.floor(hi)) == 0.5 if math.isfinite(hi) else False
        if half and lo > 0.0:
            r = np.ceil(hi)
        elif half and lo < 0.0:
            r = np.floor(hi)
        s = np.rint(lo)
        if abs(lo - s) == 0.5 and np.fmod(hi, 2.0) != 0.0:
            s = 2.0 * lo - s
        if np.rint(hi) == hi:
            if s == 0.0:
                return hi, 0.0
            return _two_sum_g(hi, s)
        return r, 0.0
    if o == LDEXP or o == POW2:
        kh, kl = _norm(bh, bl) if o == LDEXP else _norm(ah, al)
        t = np.trunc(kh) if math.isfinite(kh) else kh
        if t == kh:
            n = kh + (np.floor(kl) if kh > 0.0 else np.ceil(kl))
        else:
            n = t
        if o == POW2:
            return _ldexp_f(1.0, n), 0.0
        return _ldexp_f(ah, n), _ldexp_f(al, n)
    if o == EXPONENT:
        if not math.isfinite(ah):
            if math.isnan(ah):
                return ah, 0.0
            return 0.0, 0.0
        return _dd_exponent(ah, al)[2], 0.0
    if o == SIGNIFICAND:
        hi, lo, e = _dd_exponent(ah, al)
        return _ldexp_f(hi, -e), _ldexp_f(lo, -e)
    if o == ABS:
        hi, lo = _norm(ah, al)
        if _signbit(hi):
            return -hi, -lo
        return hi, lo
    if o == COPYSIGN:
        if not (math.isfinite(ah) and math.isfinite(bh)):
            return _copysign_f(ah, bh), 0.0
        hi, lo = _norm(ah, al)
        if _signbit(hi) != _signbit(bh):
            return -hi, -lo
        return hi, lo
    if o == SELECT:  # reduction.dd_select: the sign of hi + lo (as the exact sum's); NaN: the second pair
        if ah + al < 0.0:
            return bh, bl
        return ch, cl
    # min, max
    naive = _min_f(ah, bh) if o == MIN else _max_f(ah, bh)
    h1, l1 = _norm(ah, al)
    h2, l2 = _norm(bh, bl)
    if not (math.isfinite(h1) and math.isfinite(h2)):
        return naive, 0.0
    if o == MIN:
        first = h1 < h2 or (h1 == h2 and (l1 < l2 or (l1 == l2 and _signbit(h1))))
    else:
        first = h1 > h2 or (h1 == h2 and (l1 > l2 or (l1 == l2 and not _signbit(h1))))
    if first:
        return h1, l1
    return h2, l2


@njit(**_JIT)
def eval_dd(opc, args, out, x, consts, yh, yl):
    """The program in double-double at every x: (yh, yl) (``interpret.evaluate``, real)."""
    n = x.shape[0]
    k = consts.shape[0]
    m = opc.shape[0]
    vh = np.empty((1 + k + m, n))
    vl = np.zeros((1 + k + m, n))
    vh[0] = x
    for j in range(k):
        vh[1 + j] = consts[j]
    for q in range(m):
        s = 1 + k + q
        o = opc[q]
        a, b, c = args[q, 0], args[q, 1], args[q, 2]
        for i in range(n):
            vh[s, i], vl[s, i] = op_dd(o, vh[a, i], vl[a, i], vh[b, i], vl[b, i], vh[c, i], vl[c, i])
    yh[:] = vh[out]
    yl[:] = vl[out]


@njit(**_JIT)
def max_error(yh, yl, rh, rl, w):
    """``accuracy.max_error``: max over points of |y - ref| * w, the difference
    in double-double; inf where y is not finite or the product is NaN, 0 where
    y equals ref (or both are the same infinity); inf for no points."""
    n = yh.shape[0]
    if n == 0:
        return np.inf
    best = -np.inf
    for i in range(n):
        dh, dl = dd_sub(yh[i], yl[i], rh[i], rl[i])
        diff = abs(dh + dl)
        if diff == 0.0 or (math.isinf(rh[i]) and yh[i] == rh[i]):
            e = 0.0
        elif not math.isfinite(yh[i]):
            e = np.inf
        else:
            e = diff * w[i]
            if math.isnan(e):
                e = np.inf
        if e > best:
            best = e
    return best
