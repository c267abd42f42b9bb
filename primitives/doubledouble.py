"""Vectorized double-double arithmetic and error-free transformations (NumPy).

A double-double is a pair (hi, lo) of float64 arrays with |lo| <= ulp(hi)/2,
representing hi + lo to about 106 bits.  These are the ``real`` format's
arithmetic and the exact building blocks of correctly rounded ``fma``.
Algorithms: Knuth's TwoSum, Dekker's split/TwoProduct, and the usual
double-double add / mul / div with renormalisation.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

DD = tuple  # (hi, lo)

_SPLIT = 134217729.0  # 2^27 + 1


def two_sum(a, b):
    """s + e == a + b exactly, s = fl(a + b)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def fast_two_sum(a, b):
    """As two_sum, assuming |a| >= |b| (or a == 0)."""
    s = a + b
    e = b - (s - a)
    return s, e


def split(a):
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a, b):
    """p + e == a * b exactly (barring over/underflow), p = fl(a * b)."""
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def dd(x) -> DD:
    x = np.asarray(x, dtype=np.float64)
    return x, np.zeros_like(x)


def dd_add(a: DD, b: DD) -> DD:
    s, e = two_sum(a[0], b[0])
    t, f = two_sum(a[1], b[1])
    e = e + t
    s, e = fast_two_sum(s, e)
    e = e + f
    return fast_two_sum(s, e)


def dd_neg(a: DD) -> DD:
    return -a[0], -a[1]


def dd_sub(a: DD, b: DD) -> DD:
    return dd_add(a, dd_neg(b))


def dd_mul(a: DD, b: DD) -> DD:
    p, e = two_prod(a[0], b[0])
    e = e + (a[0] * b[1] + a[1] * b[0])
    return fast_two_sum(p, e)


def _dd_mul_d(a: DD, d) -> DD:
    p, e = two_prod(a[0], d)
    e = e + a[1] * d
    return fast_two_sum(p, e)


def dd_div(a: DD, b: DD) -> DD:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q1 = a[0] / b[0]
        r = dd_sub(a, _dd_mul_d(b, q1))
        q2 = r[0] / b[0]
        r = dd_sub(r, _dd_mul_d(b, q2))
        q3 = r[0] / b[0]
        q1, q2 = fast_two_sum(q1, q2)
        return dd_add((q1, q2), (q3, np.zeros_like(q3)))


def dd_fma(a: DD, b: DD, c: DD) -> DD:
    return dd_add(dd_mul(a, b), c)


def ieee_specials(r: DD, naive, args) -> DD:
    """The ``real`` format's IEEE special values: r, except where an argument's
    hi or the float64 result ``naive`` is not finite (x/0 = inf, c/inf = 0,
    ...), there (naive, 0), so removable singularities such as c/x at x = 0
    behave as in hardware formats."""
    hi, lo = r
    special = ~np.isfinite(naive)
    for a in args:
        special = special | ~np.isfinite(a[0])
    if special.any():
        hi = np.where(special, naive, hi)
        lo = np.where(special, 0.0, lo)
    return hi, lo


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
    p, pe = two_prod(ma, mb)
    th, tl = two_sum(np.where(c == 0, c, cs), p)
    r = th + _round_to_odd(*two_sum(tl, pe))
    out = np.where(c_wins, c, np.ldexp(r, e))
    return out, ~c_wins & (r != 0) & (np.abs(out) < 2.0 ** -1021)


def fma_float64(a, b, c):
    """Correctly rounded float64 a*b + c (as C's fma), vectorized.

    Error-free transformations; elements near overflow or underflow are
    redone with scaled operands, subnormal results in rational arithmetic."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        p, pe = two_prod(a, b)
        s, t = two_sum(p, c)
        u, w = two_sum(t, pe)
        h, l = two_sum(s, u)
        l2, w2 = two_sum(l, w)
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
        s, e = two_sum(p, c)
        s = _round_to_odd(s, np.where(np.isfinite(e), e, 0.0))
    return rounder(s)
