"""The numba side of ``kernels``: scalar ops and the program-as-data loops.

Imported only by ``kernels`` (lazily: importing numsearch does not import
numba).  Every function is compiled once for all programs (``cache=True``:
the machine code is kept on disk, see ``kernels``); a program arrives as an
opcode array and an operand-slot array (``kernels.Code``).  Slots: 0 is x,
1..k the constants, k+1+j instruction j.

Arithmetic is IEEE (no fast-math, no contraction of a*b + c into an fma);
the double-double functions repeat ``doubledouble``'s and ``reduction``'s
algorithms element by element, including their slow paths, so results are
bit for bit the NumPy interpreter's.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")

# opcodes (kernels.OPCODES maps op names to these)
ADD, SUB, MUL, DIV, FMA, NEG, RINT, LDEXP, EXPONENT, SIGNIFICAND, ABS, COPYSIGN, MIN, MAX = range(14)

_SPLIT = 134217729.0
_DIV_TINY = 2.0 ** -960


# ------------------------------------------------------------ float64 forms
@njit(**_JIT)
def _signbit(a):
    return math.copysign(1.0, a) < 0.0


@njit(**_JIT)
def _ldexp_f(a, k):
    """reduction.ldexp_: a * 2^trunc(k), k saturated at +-2200; NaN k -> a + k."""
    if math.isnan(k):
        return a + k
    t = np.trunc(k) if math.isfinite(k) else k
    if t > 2200.0:
        t = 2200.0
    elif t < -2200.0:
        t = -2200.0
    return math.ldexp(a, np.int32(t))


@njit(**_JIT)
def _frexp_e(a):
    """np.frexp's exponent (0 at 0, inf and NaN)."""
    if not math.isfinite(a) or a == 0.0:
        return 0
    return math.frexp(a)[1]


@njit(**_JIT)
def _frexp_m(a):
    """np.frexp's significand (a itself at 0, inf and NaN)."""
    if not math.isfinite(a) or a == 0.0:
        return a
    return math.frexp(a)[0]


@njit(**_JIT)
def _min_f(a, b):
    if math.isnan(a) or math.isnan(b):
        return a + b
    if a < b:
        return a
    if b < a:
        return b
    return a if _signbit(a) else b


@njit(**_JIT)
def _max_f(a, b):
    if math.isnan(a) or math.isnan(b):
        return a + b
    if a > b:
        return a
    if b > a:
        return b
    return b if _signbit(a) else a


@njit(**_JIT)
def _copysign_f(a, b):
    if math.isnan(b):
        return a + b
    return math.copysign(a, b)


@njit(**_JIT)
def _sign(a):
    if a > 0.0:
        return 1.0
    if a < 0.0:
        return -1.0
    return a  # +-0 and NaN (np.sign gives 0.0 for -0.0: the product below is the same)


@njit(**_JIT)
def op_f64(o, a, b, c):
    """The op in float64 (``Op.f64``), no extra rounding."""
    if o == ADD:
        return a + b
    if o == SUB:
        return a - b
    if o == MUL:
        return a * b
    if o == DIV:
        return a / b
    if o == FMA:
        return a * b + c
    if o == NEG:
        return -a
    if o == RINT:
        return np.rint(a)
    if o == LDEXP:
        return _ldexp_f(a, b)
    if o == EXPONENT:
        if math.isnan(a):
            return a
        return float(_frexp_e(a))
    if o == SIGNIFICAND:
        return _frexp_m(a)
    if o == ABS:
        return abs(a)
    if o == COPYSIGN:
        return _copysign_f(a, b)
    if o == MIN:
        return _min_f(a, b)
    return _max_f(a, b)


@njit(**_JIT)
def partials_f64(o, a, b, c):
    """(d/da, d/db, d/dc) as ``Op.partials`` computes them."""
    if o == ADD:
        return 1.0, 1.0, 0.0
    if o == SUB:
        return 1.0, -1.0, 0.0
    if o == MUL:
        return b, a, 0.0
    if o == DIV:
        inv = 1.0 / b
        return inv, -a * inv * inv, 0.0
    if o == FMA:
        return b, a, 1.0
    if o == NEG:
        return -1.0, 0.0, 0.0
    if o == LDEXP:
        return _ldexp_f(1.0, b), 0.0, 0.0
    if o == SIGNIFICAND:
        return math.ldexp(1.0, np.int32(-_frexp_e(a))), 0.0, 0.0
    if o == ABS:
        return _sign(a), 0.0, 0.0
    if o == COPYSIGN:
        return _sign(a) * (-1.0 if _signbit(b) else 1.0), 0.0, 0.0
    if o == MIN:
        first = 1.0 if a <= b else 0.0
        return first, 1.0 - first, 0.0
    if o == MAX:
        first = 1.0 if a >= b else 0.0
        return first, 1.0 - first, 0.0
    return 0.0, 0.0, 0.0  # rint, exponent: piecewise constant


@njit(**_JIT)
def _values(o, va, vb, vc, out):
    """One instruction over all points (the common ops in tight loops)."""
    n = out.shape[0]
    if o == ADD:
        for i in range(n):
            out[i] = va[i] + vb[i]
    elif o == SUB:
        for i in range(n):
            out[i] = va[i] - vb[i]
    elif o == MUL:
        for i in range(n):
            out[i] = va[i] * vb[i]
    elif o == DIV:
        for i in range(n):
            out[i] = va[i] / vb[i]
    elif o == FMA:
        for i in range(n):
            out[i] = va[i] * vb[i] + vc[i]
    elif o == NEG:
        for i in range(n):
            out[i] = -va[i]
    else:
        for i in range(n):
            out[i] = op_f64(o, va[i], vb[i], vc[i])


@njit(**_JIT)
def vjac(opc, args, arity, out, deps, x, consts, v, J):
    """``vjac_ws`` with a workspace of its own."""
    val, tan, d = workspace(x.shape[0], consts.shape[0], opc.shape[0])
    vjac_ws(opc, args, arity, out, deps, x, consts, v, J, val, tan, d)


@njit(**_JIT)
def workspace(n, k, m):
    """Scratch arrays for ``vjac_ws``: slot values, tangents, partials."""
    return np.empty((1 + k + m, n)), np.empty((1 + k + m, k, n)), np.empty((3, n))


@njit(**_JIT)
def vjac_ws(opc, args, arity, out, deps, x, consts, v, J, val, tan, d):
    """Float64 values v (n,) and Jacobian J (n, k) w.r.t. the constants,
    forward mode, instruction by instruction over all points.  ``deps[s, j]``:
    slot s depends on constant j; only those tangent entries are computed
    (the others are 0, where the interpreter's dense product gives 0 or, times
    an infinite partial, NaN; a point's row is non-finite in both or neither).
    Dependent entries are the interpreter's (its sums in its order).
    val, tan, d: scratch (``workspace``)."""
    n = x.shape[0]
    k = consts.shape[0]
    m = opc.shape[0]
    val[0] = x
    for j in range(k):
        val[1 + j] = consts[j]
        tan[1 + j, j] = 1.0
    for q in range(m):
        s = 1 + k + q
        o = opc[q]
        ia, ib, ic = args[q, 0], args[q, 1], args[q, 2]
        _values(o, val[ia], val[ib], val[ic], val[s])
        if o == MUL or o == FMA:      # partials (b, a[, 1]): the operands themselves
            d[0] = val[ib]
            d[1] = val[ia]
            d[2] = 1.0
        elif o == DIV:
            va, vb = val[ia], val[ib]
            for i in range(n):
                inv = 1.0 / vb[i]
                d[0, i] = inv
                d[1, i] = -va[i] * inv * inv
        elif o != ADD and o != SUB:
            for i in range(n):
                d[0, i], d[1, i], d[2, i] = partials_f64(o, val[ia, i], val[ib, i], val[ic, i])
        for j in range(k):
            if not deps[s, j]:
                continue
            t = tan[s, j]
            first = True
            for p in range(arity[q]):
                src = args[q, p]
                if not deps[src, j]:
                    continue
                ts = tan[src, j]
                if o == ADD or (o == SUB and p == 0):
                    if first:
                        t[:] = ts
                    else:
                        for i in range(n):
                            t[i] = t[i] + ts[i]
                elif o == SUB:
                    if first:
                        for i in range(n):
                            t[i] = -ts[i]
                    else:
                        for i in range(n):
                            t[i] = t[i] - ts[i]
                else:
                    dp = d[p]
                    if first:
                        for i in range(n):
                            t[i] = ts[i] * dp[i]
                    else:
                        for i in range(n):
                            t[i] = t[i] + ts[i] * dp[i]
                first = False
    for i in range(n):
        v[i] = val[out, i]
    for j in range(k):
        if deps[out, j]:
            tj = tan[out, j]
            for i in range(n):
                J[i, j] = tj[i]
        else:
            for i in range(n):
                J[i, j] = 0.0


# ------------------------------------------------------------ double-double
@njit(**_JIT)
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(**_JIT)
def _two_diff(a, b):
    s = a - b
    bb = s - a
    return s, (a - (s - bb)) - (b + bb)


@njit(**_JIT)
def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


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
    if o == LDEXP:
        kh, kl = _norm(bh, bl)
        t = np.trunc(kh) if math.isfinite(kh) else kh
        if t == kh:
            n = kh + (np.floor(kl) if kh > 0.0 else np.ceil(kl))
        else:
            n = t
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
def eval_f64(opc, args, out, x, consts, y):
    """The program in float64 (every op rounded once to float64; no fma)."""
    n = x.shape[0]
    k = consts.shape[0]
    m = opc.shape[0]
    val = np.empty((1 + k + m, n))
    val[0] = x
    for j in range(k):
        val[1 + j] = consts[j]
    for q in range(m):
        _values(opc[q], val[args[q, 0]], val[args[q, 1]], val[args[q, 2]], val[1 + k + q])
    y[:] = val[out]


# ------------------------------------------------------------ hardware formats
@njit(**_JIT)
def round_fmt(v, p, emin, maxf, has_inf):
    """``Format.round`` for a format of p <= 52 bits (the generic rounding:
    RNE at the format's spacing, gradual underflow, overflow to inf or NaN)."""
    if not math.isfinite(v):
        if has_inf or math.isnan(v):
            return v
        return np.nan
    if v == 0.0:
        return v
    e = math.frexp(abs(v))[1] - 1
    if e < emin:
        e = emin
    scale = p - 1 - e
    r = math.ldexp(np.rint(math.ldexp(v, scale)), -scale)
    if abs(r) > maxf:
        return math.copysign(np.inf, r) if has_inf else np.nan
    return r


@njit(**_JIT)
def _odd_last_bit(s):
    """Whether finite s's last significand bit (its bit pattern's last bit) is 1."""
    a = abs(s)
    if a >= 2.0 ** -1022:
        t = math.ldexp(math.frexp(a)[0], 53)
    else:
        t = math.ldexp(a, 1074)
    return np.fmod(t, 2.0) == 1.0


@njit(**_JIT)
def fma_narrow(a, b, c, p, emin, maxf, has_inf):
    """``doubledouble.fma_narrow``: a*b exact, the sum rounded to odd, then once to the format."""
    prod = a * b
    s, e = _two_sum(prod, c)
    if not math.isfinite(e):
        e = 0.0
    if e != 0.0 and math.isfinite(s) and not _odd_last_bit(s):
        s = np.nextafter(s, np.inf if e > 0 else -np.inf)
    return round_fmt(s, p, emin, maxf, has_inf)


@njit(**_JIT)
def eval_rounded(opc, args, out, x, consts, p, emin, maxf, has_inf, y):
    """The program in a format of p <= 26 bits: constants, then every
    instruction, rounded once to the format (``Op.rounded``)."""
    n = x.shape[0]
    k = consts.shape[0]
    m = opc.shape[0]
    val = np.empty((1 + k + m, n))
    val[0] = x
    for j in range(k):
        val[1 + j] = round_fmt(consts[j], p, emin, maxf, has_inf)
    for q in range(m):
        o = opc[q]
        a, b, c = args[q, 0], args[q, 1], args[q, 2]
        s = 1 + k + q
        if o == FMA:
            for i in range(n):
                val[s, i] = fma_narrow(val[a, i], val[b, i], val[c, i], p, emin, maxf, has_inf)
        else:
            for i in range(n):
                val[s, i] = round_fmt(op_f64(o, val[a, i], val[b, i], val[c, i]), p, emin, maxf, has_inf)
    y[:] = val[out]


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


@njit(**_JIT)
def round_array(x, p, emin, maxf, has_inf, out):
    """``Format.round`` of every x (p <= 52)."""
    for i in range(x.shape[0]):
        out[i] = round_fmt(x[i], p, emin, maxf, has_inf)
