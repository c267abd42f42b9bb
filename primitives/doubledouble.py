"""Vectorized double-double arithmetic and error-free transformations (NumPy).

A double-double is a pair (hi, lo) of float64 arrays with hi = fl(hi + lo)
(so |lo| <= ulp(hi)/2), representing hi + lo to about 106 bits.  These are the
``real`` format's arithmetic and the exact building blocks of correctly
rounded ``fma``.  Algorithms: Knuth's TwoSum, Dekker's split/TwoProduct, and
the usual double-double add / mul / div with renormalisation.

Range.  The textbook algorithms overflow in intermediate steps near the top
of the float64 range (the split multiplies by 2^27 + 1, so it fails above
about 2^997; the quotient correction multiplies the divisor by the quotient;
TwoSum's s - a can overflow at the largest float64), and a quotient loses its
precision to underflow in the remainders when the dividend is tiny.  So each
op runs the textbook kernel (``_dd_add``, ...) on the whole arrays, checks the
result with one reduction (a NaN or an infinity anywhere makes the sum
non-finite), and redoes only the elements that went wrong (in division also
those with a dividend below 2^-960, found by a second reduction) with
operands scaled exactly by powers of two.  For finite operands:

* where the exact result rounds to a finite float64, the result is finite and
  |hi + lo - exact| <= 2^-100 |exact| + 4 * 2^-1074 (for fma of double-double
  operands 2^-100 (|a*b| + |c|): the product's error survives cancellation).
  The algorithms are good to a few units of 2^-106; the absolute term is
  where double-doubles resolve no finer (results or partial products below
  about 2^-968);
* where the exact result rounds to +-inf in float64 (|x| >= 2^1024 - 2^970),
  the result is (+-inf, 0), not NaN (within ~2^-100 of that threshold either
  outcome may occur).

Where an operand is infinite or NaN, or a divisor is zero, the result is the
float64 operation on the high parts, lo = 0 (IEEE specials: x/0 = inf,
c/inf = 0, fma(a, b, +-inf) = +-inf for finite a, b).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

DD = tuple  # (hi, lo)

_SPLIT = 134217729.0      # 2^27 + 1
_SPLIT_MAX = 2.0 ** 996   # above this _SPLIT * a may overflow: split a * 2^-28 instead
_SPLIT_TOP = float(2 ** 1024 - 2 ** 998)  # the largest 26-bit float64
_PROD_TINY = 2.0 ** -967  # below this Dekker's partial products may underflow
_DIV_TINY = 2.0 ** -960   # a dividend below this loses bits in the remainders
_NORMAL_MIN = 2.0 ** -1022


def _quiet():
    return np.errstate(all="ignore")


def _all_finite(x) -> bool:
    """True when x holds no NaN and no infinity: one reduction, no temporary.
    (False also when finite values sum past the range; callers then look closer.)"""
    return bool(np.isfinite(np.sum(x)))


# ---------------------------------------------------------------- kernels
# The textbook algorithms, exact / accurate absent overflow and underflow.
# (Temporaries are rebound as soon as they are used: at 1e5 elements the
# time goes mostly to allocating arrays, and fewer live ones cost less.)

def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_diff(a, b):  # _two_sum(a, -b), without the negation pass
    s = a - b
    bb = s - a
    return s, (a - (s - bb)) - (b + bb)


def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


def _split(a):
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _accumulate(s, e, t, f) -> DD:
    """Renormalised (s + e) + (t + f), from the error-free sums of the high
    parts (s, e) and of the low parts (t, f)."""
    e = e + t
    s, e = _fast_two_sum(s, e)
    e = e + f
    return _fast_two_sum(s, e)


def _dd_add(a: DD, b: DD) -> DD:
    return _accumulate(*_two_sum(a[0], b[0]), *_two_sum(a[1], b[1]))


def _dd_sub(a: DD, b: DD) -> DD:
    return _accumulate(*_two_diff(a[0], b[0]), *_two_diff(a[1], b[1]))


def _dd_mul(a: DD, b: DD) -> DD:
    p, e = _two_prod(a[0], b[0])
    e = e + (a[0] * b[1] + a[1] * b[0])
    return _fast_two_sum(p, e)


def _dd_mul_d(a: DD, d) -> DD:
    p, e = _two_prod(a[0], d)
    e = e + a[1] * d
    return _fast_two_sum(p, e)


def _dd_div(a: DD, b: DD) -> DD:
    q1 = a[0] / b[0]
    r = _dd_sub(a, _dd_mul_d(b, q1))
    q2 = r[0] / b[0]
    r = _dd_sub(r, _dd_mul_d(b, q2))
    q3 = r[0] / b[0]
    q1, q2 = _fast_two_sum(q1, q2)
    return _dd_add((q1, q2), (q3, np.zeros_like(q3)))


def _dd_fma(a: DD, b: DD, c: DD) -> DD:
    return _dd_add(_dd_mul(a, b), c)


# ---------------------------------------------------------------- error-free transformations

def two_sum(a, b):
    """s + e == a + b exactly, s = fl(a + b); e = 0 where s overflows to +-inf."""
    with _quiet():
        s, e = _two_sum(a, b)
        if _all_finite(e):
            return s, e
        s, e, a, b = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(s, e, a, b))
        bad = ~np.isfinite(e)
        # s finite, e not: s - a overflowed (e.g. a = -1.5 * 2^971, b = max
        # float64); with the operands ordered by magnitude, Fast2Sum's s - a
        # is exact and cannot
        fix = bad & np.isfinite(s)
        x, y = a[fix], b[fix]
        swap = np.abs(x) < np.abs(y)
        e[fix] = _fast_two_sum(np.where(swap, y, x), np.where(swap, x, y))[1]
        e[bad & np.isinf(s)] = 0.0
        return s, e


def fast_two_sum(a, b):
    """As two_sum, assuming |a| >= |b| (or a == 0); e = 0 where s overflows."""
    with _quiet():
        s, e = _fast_two_sum(a, b)
        if not _all_finite(e):
            e = np.where(np.isinf(s), 0.0, e)
        return s, e


def split(a):
    """hi + lo == a exactly, hi = a rounded to 26 bits, lo of at most 26 bits
    (Veltkamp), for every finite a: above 2^996, where (2^27 + 1) * a could
    overflow, a * 2^-28 is split and the parts scaled back (both exact).
    Above 2^1024 - 2^997, where a rounded to 26 bits is 2^1024, hi is the
    largest 26-bit float64 instead (2^1024 - 2^998) and lo has 27 bits."""
    with _quiet():
        hi, lo = _split(a)
        if _all_finite(hi):
            return hi, lo
        a = np.asarray(a, dtype=np.float64)
        big = np.abs(a) > _SPLIT_MAX
        hi, lo = _split(np.where(big, a * 2.0 ** -28, a))
        hi, lo = np.where(big, hi * 2.0 ** 28, hi), np.where(big, lo * 2.0 ** 28, lo)
        top = big & np.isinf(hi) & np.isfinite(a)
        if top.any():
            hi = np.where(top, np.copysign(_SPLIT_TOP, a), hi)
            lo = np.where(top, a - hi, lo)
        return hi, lo


def _two_prod_scaled(a, b):
    """two_prod of finite a, b through their significands in [1/2, 1), where
    Dekker's algorithm neither overflows nor underflows."""
    (ma, ea), (mb, eb) = np.frexp(a), np.frexp(b)
    p = a * b
    e = np.ldexp(_two_prod(ma, mb)[1], ea + eb)  # a*b - p, rounded once
    # where p is subnormal, |a*b - p| <= 2^-1075 rounds to 0 (ties to even)
    return p, np.where(np.isfinite(p) & (np.abs(p) >= _NORMAL_MIN), e, 0.0)


def two_prod(a, b):
    """p = fl(a * b) and e = fl(a * b - p), the product's rounding error: exact
    unless it underflows (|a * b| below about 2^-968); 0 where p overflows."""
    with _quiet():
        p, e = _two_prod(a, b)
        tiny = np.abs(p) < _PROD_TINY
        if _all_finite(e) and not tiny.any():
            return p, e
        p, e, a, b, tiny = (np.array(v) for v in np.broadcast_arrays(p, e, a, b, tiny))
        redo = (tiny | ~np.isfinite(e)) & np.isfinite(a) & np.isfinite(b)
        p[redo], e[redo] = _two_prod_scaled(a[redo], b[redo])
        e[np.isinf(p)] = 0.0
        return p, e


# ---------------------------------------------------------------- double-double ops

def dd(x) -> DD:
    x = np.asarray(x, dtype=np.float64)
    return x, np.zeros_like(x)


def _redo(out: DD, args, f64, slow, also=None) -> DD:
    """``out``: a kernel's (hi, lo) for the whole arrays.  Where hi is not
    finite (or ``also``): where an operand is not finite, the float64 op
    ``f64`` on the high parts with lo = 0 (IEEE specials); elsewhere the
    elements are recomputed by ``slow`` (the kernel's signature, on 1-d
    arrays of those elements only)."""
    if also is None and _all_finite(out[0]):
        return out
    bad = ~np.isfinite(out[0])
    if also is not None:
        bad = bad | also
    if not bad.any():
        return out
    his = [np.asarray(a[0], dtype=np.float64) for a in args]
    fin = np.isfinite(his[0])
    for h in his[1:]:
        fin = fin & np.isfinite(h)
    hi, lo = np.where(bad, f64(*his), out[0]), np.where(bad, 0.0, out[1])
    redo = np.broadcast_to(bad & fin, hi.shape)
    if redo.any():
        sub = [np.broadcast_to(np.asarray(v, dtype=np.float64), hi.shape)[redo] for pair in args for v in pair]
        hi[redo], lo[redo] = slow(*((sub[2 * i], sub[2 * i + 1]) for i in range(len(args))))
    return hi, lo


def _ldexp_dd(h, l, e) -> DD:
    """(h, l) * 2^e: (+-inf, 0) where it overflows; renormalised where it lands
    in the subnormal range (hi and lo each rounded once there)."""
    h, l = np.ldexp(h, e), np.ldexp(l, e)
    s, t = _fast_two_sum(h, l)
    over = np.isinf(h)
    return np.where(over, h, s), np.where(over, 0.0, t)


def _scaled(a: DD, f) -> DD:
    return a[0] * f, a[1] * f


def _frexp_dd(a: DD):
    """(hi, lo) scaled exactly by 2^-e so that |hi| is in [1/2, 1) (lo may lose
    bits below 2^-1074, far below hi's 106), and e."""
    m, e = np.frexp(a[0])
    return (m, np.ldexp(a[1], -e)), e


# The slow paths: finite operands only (1-d arrays of the elements to redo).

def _add_slow(a: DD, b: DD) -> DD:
    # the exact sum is above 2^1022 here (something overflowed): at a quarter
    # of the scale nothing overflows, and lo bits lost below 2^-1074 are
    # negligible next to it
    return _ldexp_dd(*_dd_add(_scaled(a, 0.25), _scaled(b, 0.25)), 2)


def _sub_slow(a: DD, b: DD) -> DD:
    return _add_slow(a, dd_neg(b))


def _mul_slow(a: DD, b: DD) -> DD:
    (sa, ea), (sb, eb) = _frexp_dd(a), _frexp_dd(b)
    return _ldexp_dd(*_dd_mul(sa, sb), ea + eb)


def _div_slow(a: DD, b: DD) -> DD:
    (sa, ea), (sb, eb) = _frexp_dd(a), _frexp_dd(b)
    h, l = _ldexp_dd(*_dd_div(sa, sb), ea - eb)
    zero = (a[0] == 0) | (b[0] == 0)  # IEEE: x/0 = +-inf, 0/0 = NaN, 0/x = +-0
    return np.where(zero, a[0] / b[0], h), np.where(zero, 0.0, l)


def _fma_slow(a: DD, b: DD, c: DD) -> DD:
    # something overflowed: the larger factor of a*b and c scaled by 1/4
    # (exact where it matters), the guarded ops, the result scaled back
    fa = np.abs(a[0]) >= np.abs(b[0])
    sa, sb = np.where(fa, 0.25, 1.0), np.where(fa, 1.0, 0.25)
    h, l = _ldexp_dd(*dd_add(dd_mul(_scaled(a, sa), _scaled(b, sb)), _scaled(c, 0.25)), 2)
    zero = (a[0] == 0) | (b[0] == 0)  # a*b + c is c (with IEEE's signed zeros)
    return np.where(zero, a[0] * b[0] + c[0], h), np.where(zero, c[1], l)


def _fma64(a, b, c):
    """float64 a*b + c for the specials: fma(a, b, +-inf) = +-inf for finite a, b."""
    return np.where(np.isinf(c) & np.isfinite(a) & np.isfinite(b), c, a * b + c)


def dd_add(a: DD, b: DD) -> DD:
    with _quiet():
        return _redo(_dd_add(a, b), (a, b), np.add, _add_slow)


def dd_neg(a: DD) -> DD:
    return -a[0], -a[1]


def dd_sub(a: DD, b: DD) -> DD:
    with _quiet():
        return _redo(_dd_sub(a, b), (a, b), np.subtract, _sub_slow)


def dd_mul(a: DD, b: DD) -> DD:
    with _quiet():
        return _redo(_dd_mul(a, b), (a, b), np.multiply, _mul_slow)


def dd_div(a: DD, b: DD) -> DD:
    with _quiet():
        out = _dd_div(a, b)
        tiny = None
        if not np.min(np.abs(a[0]), initial=np.inf) >= _DIV_TINY:  # rare: one reduction decides
            tiny = (np.abs(a[0]) < _DIV_TINY) & (a[0] != 0)
        return _redo(out, (a, b), np.divide, _div_slow, also=tiny)


def dd_fma(a: DD, b: DD, c: DD) -> DD:
    with _quiet():
        return _redo(_dd_fma(a, b, c), (a, b, c), _fma64, _fma_slow)


def dd_to_float(a: DD) -> np.ndarray:
    return a[0] + a[1]


def _round_to_odd(v, sticky):
    """Where sticky != 0 and v's last significand bit is even, step v one ulp
    toward sticky: v then carries the inexactness as an odd last bit."""
    bits = v.view(np.int64)
    even = (bits & 1) == 0
    fix = (sticky != 0) & even & np.isfinite(v)
    if fix.any():
        v = v.copy()
        v[fix] = np.nextafter(v[fix], np.where(sticky[fix] > 0, np.inf, -np.inf))
    return v


_FMA_OVERFLOW = Fraction(2**1024 - 2**970)  # max float64 + half an ulp: rounds to inf


def _fma_exact(a: float, b: float, c: float) -> float:
    """Correctly rounded a*b + c for finite floats, in exact rational arithmetic."""
    s = Fraction(a) * Fraction(b) + Fraction(c)
    if s == 0:  # exact zero: IEEE sign rules (+0 unless both terms are -0)
        return (a * b) + c if (a == 0 or b == 0) else 0.0
    if abs(s) >= _FMA_OVERFLOW:
        return math.inf if s > 0 else -math.inf
    return float(s)  # int / int division is correctly rounded (subnormals too)


def _fma_scaled(a, b, c):
    """fma for finite nonzero a, b at any magnitude: a, b scaled to [1/2, 1) and
    c alike (exactly), so the error-free transformations neither overflow nor
    underflow (Boldo-Melquiond: round to odd, then to nearest).  Returns the
    result and where it is subnormal (the final scaling rounded a second time)."""
    (ma, ea), (mb, eb), (mc, ec) = np.frexp(a), np.frexp(b), np.frexp(c)
    e = ea + eb
    d = ec - e
    c_wins = (d > 60) & (c != 0)  # |a*b| < ulp(c) / 4
    cs = np.where(d < -106, np.copysign(2.0 ** -212, c), np.ldexp(mc, np.clip(d, -106, 60)))  # else a sticky bit
    p, pe = _two_prod(ma, mb)
    th, tl = _two_sum(np.where(c == 0, c, cs), p)
    r = th + _round_to_odd(*_two_sum(tl, pe))
    out = np.where(c_wins, c, np.ldexp(r, e))
    return out, ~c_wins & (r != 0) & (np.abs(out) < 2.0 ** -1021)


def fma_float64(a, b, c):
    """Correctly rounded float64 a*b + c (as C's fma), vectorized.

    Error-free transformations; elements near overflow or underflow are
    redone with scaled operands, subnormal results in rational arithmetic."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        p, pe = _two_prod(a, b)
        s, t = _two_sum(p, c)
        u, w = _two_sum(t, pe)
        h, l = _two_sum(s, u)
        l2, w2 = _two_sum(l, w)
        r = h + _round_to_odd(l2, w2)
        fin = np.isfinite(a) & np.isfinite(b) & np.isfinite(c)
        # infinities / NaNs: the naive expression has fma's specials, except
        # that finite a*b may overflow where c is infinite (the answer is c);
        # a zero product: a*b + c is exact, with IEEE's signed zeros
        naive = np.where(np.isinf(c) & np.isfinite(a) & np.isfinite(b), c, a * b + c)
        simple = ~fin | (a == 0) | (b == 0)
        r = np.where(simple, naive, r)
        big, ab = 2.0 ** 995, np.abs(a * b)
        hard = ~simple & ((np.abs(a) >= big) | (np.abs(b) >= big) | (ab >= 2.0 ** 1020) | (ab < 2.0 ** -960)
                          | (np.abs(c) >= 2.0 ** 1020) | (np.abs(r) < 2.0 ** -1021))
        if hard.any():
            r = np.array(r, dtype=np.float64)
            idx = np.flatnonzero(hard)
            r.flat[idx], redo = _fma_scaled(a.flat[idx], b.flat[idx], c.flat[idx])
            for i in idx[redo]:
                r.flat[i] = _fma_exact(float(a.flat[i]), float(b.flat[i]), float(c.flat[i]))
    return r


def fma_narrow(a, b, c, rounder):
    """Correctly rounded a*b + c for a format of at most 26 bits of precision:
    a*b is exact in float64, the sum is rounded to odd in float64, then rounded
    once to the format by ``rounder`` (round-to-odd makes the double rounding
    innocuous since 53 >= p + 2)."""
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        s, e = _two_sum(p, c)
        s = _round_to_odd(s, np.where(np.isfinite(e), e, 0.0))
    return rounder(s)
