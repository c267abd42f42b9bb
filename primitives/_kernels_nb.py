"""The numba side of ``kernels``: scalar ops and the program-as-data loops.

Imported only by ``kernels`` (lazily: importing numsearch does not import
numba).  Every function is compiled once for all programs (``cache=True``:
the machine code is kept on disk, see ``kernels``); a program arrives as an
opcode array and an operand-slot array (``kernels.Code``).  Slots: 0 is x,
1..k the constants, k+1+j instruction j.

Arithmetic is IEEE (no fast-math, no contraction of a*b + c into an fma).
Here: the ops in float64 and their partials, the forward-mode Jacobian, and
evaluation in float64 and in the narrower hardware formats; the
double-double evaluator is ``_dd_nb``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")

# opcodes (kernels.OPCODES maps op names to these)
ADD, SUB, MUL, DIV, FMA, NEG, RINT, LDEXP, EXPONENT, SIGNIFICAND, ABS, COPYSIGN, MIN, MAX, POW2, SELECT = range(16)



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
    if o == POW2:
        return _ldexp_f(1.0, a)
    if o == SELECT:  # b where a < 0, else c (a = -0, +0, NaN: c)
        return b if a < 0.0 else c
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
    if o == SELECT:  # 0 in the selector; 1 for the argument chosen, 0 for the other
        first = 1.0 if a < 0.0 else 0.0
        return 0.0, first, 1.0 - first
    return 0.0, 0.0, 0.0  # rint, exponent, pow2: piecewise constant


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
    elif o == SELECT:
        for i in range(n):
            out[i] = vb[i] if va[i] < 0.0 else vc[i]
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


# ------------------------------------------------------------ error-free sums
@njit(**_JIT)
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(**_JIT)
def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


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
def round_array(x, p, emin, maxf, has_inf, out):
    """``Format.round`` of every x (p <= 52)."""
    for i in range(x.shape[0]):
        out[i] = round_fmt(x[i], p, emin, maxf, has_inf)
