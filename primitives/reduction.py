"""Range-reduction ops: round to integer, exact scaling by 2^k, the frexp split,
abs, copysign, min, max and select.  Their forms for the op registry (``ops.py``
registers them); every op here is exact in every format except where its
result must be rounded (ldexp to a subnormal or past the range, exponent in
a format too narrow to hold the integer), and then it is rounded once.

Semantics (the same in the interpreter and every exporter):

``rint(a)``          nearest integer, ties to even; -0.5 < a < 0 gives -0;
                     +-0, +-inf and NaN are returned unchanged.
``ldexp(a, k)``      a * 2^n, n = trunc(k) (k is meant to be integer-valued,
                     e.g. a rint result), rounded once: exact wherever the
                     result is a normal number, correctly rounded where it is
                     subnormal, +-inf past the largest finite value (NaN in
                     formats without inf); 2^n itself need not be
                     representable.  n saturates at +-2200 (beyond that every
                     finite nonzero a overflows or underflows anyway); NaN k
                     gives NaN; inf k acts as +-2200.  +-0, +-inf and NaN a
                     are returned unchanged.
``pow2(a)``          2^n, n = trunc(a) (meant integer-valued: a rint result),
                     i.e. ldexp(1, a): exact for every power of two of the
                     format (subnormal ones included), +inf above the
                     largest, 0 below the smallest; NaN gives NaN.  With a
                     product it scales by 2^k where ldexp's exactness at the
                     ends is not needed (the fast JAX form builds it from
                     exponent bits in two integer instructions).
``exponent(a)``      the integer e with a = m * 2^e, 0.5 <= |m| < 1 (C's frexp
                     exponent, subnormals included), rounded to the format
                     (exact in all formats but float8_e5m2, whose 3-bit
                     significand holds integers up to 8 only); exponent(+-0) =
                     exponent(+-inf) = 0 and exponent(NaN) = NaN, so that
                     ldexp(significand(a), exponent(a)) == a for every a.
``significand(a)``   m (exact, sign of a); +-0, +-inf, NaN unchanged.
``abs(a)``           |a| (exact; the sign bit cleared, NaN stays NaN).
``copysign(a, b)``   |a| with the sign bit of b (so copysign(1, -0) = -1);
                     NaN if a or b is NaN (the sign of a NaN is not
                     dependable across hardware and compilers, so no op reads it).
``min(a, b)``,       the smaller / larger; NaN if either is NaN (IEEE 754-2019
``max(a, b)``        minimum / maximum, as jnp.minimum, np.minimum; not C's
                     fmin); min(-0, +0) = -0 and max(-0, +0) = +0.
``select(s, a, b)``  a where s < 0, else b.  Exact in every format (no
                     rounding).  s = -0, +0 and NaN give b (the IEEE
                     comparison s < 0 is false).  NaN a or b propagate only
                     when chosen.  It is branch-free (compiles to a compare
                     and a blend), so programs stay straight-line.
                     Derivatives for the fitter: d/ds = 0, d/da = 1 where
                     s < 0 else 0, d/db = the complement.  (Two pieces of a
                     kernel joined: select(sub(a, c), small, large).)

The float64 forms below (``rint_`` ... ``select_``) work on arrays of any float
dtype and keep it; the NumPy exporter copies their source into the module it
writes, so exported NumPy code runs the interpreter's own functions.  The
``*_sym`` SymPy forms are copied into SymPy exports likewise.  Derivatives
(for constant fitting) are 0 where an op is piecewise constant (rint,
pow2, exponent, ldexp in k, select in s).
"""
from __future__ import annotations

import mpmath
import numpy as np

from .doubledouble import two_sum

LDEXP_K_MAX = 2200  # ldexp's k saturates here (>= 1074 + 1024: all results then 0 or inf)


# ------------------------------------------------ float64 forms (also NumPy exports)
def rint_(a):
    return np.rint(a)


def abs_(a):
    return np.abs(a)


def copysign_(a, b):
    return np.where(np.isnan(b), a + b, np.copysign(a, b))


def min_(a, b):
    return np.where(np.isnan(a) | np.isnan(b), a + b,
                    np.where(a < b, a, np.where(b < a, b, np.where(np.signbit(a), a, b))))


def max_(a, b):
    return np.where(np.isnan(a) | np.isnan(b), a + b,
                    np.where(a > b, a, np.where(b > a, b, np.where(np.signbit(a), b, a))))


def select_(s, a, b):
    """a where s < 0, else b.  Exact in every format (no rounding).  s = -0, +0 and NaN
    give b (the IEEE comparison s < 0 is false).  NaN a or b propagate only when chosen."""
    return np.where(s < 0, a, b)


def ldexp_(a, k):
    """a * 2^trunc(k), rounded once (C ldexp); k saturated at +-2200, NaN k -> NaN."""
    n = np.where(np.isnan(k), 0, np.clip(np.trunc(k), -2200, 2200)).astype(np.int64)
    return np.where(np.isnan(k), a + k, np.ldexp(a, n))


def pow2_(a):
    """2^trunc(a) (ldexp(1, a)): exact powers of two, inf above the range, 0 below, NaN at NaN."""
    return ldexp_(np.ones_like(a), a)


def exponent_(a):
    """frexp's exponent as a float (0 at +-0 and +-inf, NaN at NaN)."""
    e = np.frexp(a)[1]
    return np.where(np.isnan(a), a, np.where(np.isinf(a), 0, e)).astype(np.asarray(a).dtype)


def significand_(a):
    """frexp's significand, in [0.5, 1) in magnitude (+-0, +-inf, NaN unchanged)."""
    return np.where(np.isfinite(a), np.frexp(a)[0], a)


# --------------------------------------------------------------- derivatives
def abs_partials(a):
    return (np.sign(a),)


def copysign_partials(a, b):
    return np.sign(a) * np.where(np.signbit(b), -1.0, 1.0), 0.0


def min_partials(a, b):
    first = np.asarray(a <= b, dtype=np.float64)
    return first, 1.0 - first


def max_partials(a, b):
    first = np.asarray(a >= b, dtype=np.float64)
    return first, 1.0 - first


def select_partials(s, a, b):
    """d/ds = 0, d/da = 1 where s < 0 else 0, d/db = the complement."""
    first = np.asarray(s < 0, dtype=np.float64)
    return 0.0, first, 1.0 - first


def ldexp_partials(a, k):
    return ldexp_(np.ones_like(np.asarray(a, dtype=np.float64)), k), 0.0


def significand_partials(a):
    return (np.ldexp(1.0, -np.frexp(a)[1]),)


def zero_partials(*args):
    return (0.0,) * len(args)


# ------------------------------------------------------- double-double forms
def _norm(a):
    """(hi, lo) renormalized, |lo| <= ulp(hi) / 2 (a zero hi keeps its sign where lo = 0)."""
    hi, lo = np.asarray(a[0], dtype=np.float64), np.asarray(a[1], dtype=np.float64)
    with np.errstate(all="ignore"):
        s, e = two_sum(hi, lo)
    return np.where(lo == 0, hi, s), np.where(lo == 0, 0.0, e)


def _specials(r, naive, *args):
    """IEEE specials: where an argument's hi is not finite (inf, NaN), the
    float64 op's result ``naive`` with lo 0; elsewhere the double-double r."""
    bad = ~np.isfinite(args[0][0])
    for a in args[1:]:
        bad = bad | ~np.isfinite(a[0])
    return np.where(bad, naive, r[0]), np.where(bad, 0.0, r[1])


def _plus_int(hi, s):
    """hi + s (s integer-valued) exactly as a double-double; hi itself where s = 0
    (keeping the sign of a zero)."""
    h, l = two_sum(hi, s)
    return np.where(s == 0, hi, h), np.where(s == 0, 0.0, l)


def dd_rint(a):
    """Nearest integer to hi + lo, ties to even, exactly.  A non-integer hi
    decides alone but for a half-integer hi, where lo breaks the tie; an
    integer hi adds rint(lo), a tie (possible only where |hi| < 2^53, lo = +-1/2)
    going to the even neighbour."""
    hi, lo = _norm(a)
    with np.errstate(all="ignore"):
        r = np.rint(hi)
        half = (hi - np.floor(hi)) == 0.5
        r = np.where(half & (lo > 0), np.ceil(hi), np.where(half & (lo < 0), np.floor(hi), r))
        s = np.rint(lo)
        odd_tie = (np.abs(lo - s) == 0.5) & (np.fmod(hi, 2.0) != 0)
        s = np.where(odd_tie, 2 * lo - s, s)
        ih, il = _plus_int(hi, s)
        is_int = np.rint(hi) == hi
        return np.where(is_int, ih, r), np.where(is_int, il, 0.0)


def _dd_trunc(k):
    """trunc(hi + lo) as a float64 (exact while |hi| < 2^53; beyond, ldexp saturates)."""
    hi, lo = _norm(k)
    with np.errstate(all="ignore"):
        t = np.trunc(hi)
        return np.where(t == hi, hi + np.where(hi > 0, np.floor(lo), np.ceil(lo)), t)


def dd_ldexp(a, k):
    n = _dd_trunc(k)
    return ldexp_(a[0], n), ldexp_(a[1], n)


def dd_pow2(k):
    n = _dd_trunc(k)
    return pow2_(n), np.zeros_like(n)


def _dd_exponent(a):
    """(renormalized a, its frexp exponent): hi's, less one where hi is a power
    of two and lo pulls the value below it."""
    hi, lo = _norm(a)
    m, e = np.frexp(hi)
    below = (np.abs(m) == 0.5) & (lo != 0) & (np.signbit(lo) != np.signbit(hi))
    return (hi, lo), (e - below).astype(np.float64)


def dd_exponent(a):
    _, e = _dd_exponent(a)
    return _specials((e, np.zeros_like(e)), exponent_(a[0]), a)


def dd_significand(a):
    (hi, lo), e = _dd_exponent(a)
    return ldexp_(hi, -e), ldexp_(lo, -e)


def dd_abs(a):
    hi, lo = _norm(a)
    neg = np.signbit(hi)
    return np.where(neg, -hi, hi), np.where(neg, -lo, lo)


def dd_copysign(a, b):
    hi, lo = _norm(a)
    flip = np.signbit(hi) != np.signbit(b[0])
    return _specials((np.where(flip, -hi, hi), np.where(flip, -lo, lo)), copysign_(a[0], b[0]), a, b)


def _dd_pick(first, a, b):
    return np.where(first, a[0], b[0]), np.where(first, a[1], b[1])


def dd_min(a, b):
    naive = min_(a[0], b[0])
    a, b = _norm(a), _norm(b)
    less = (a[0] < b[0]) | ((a[0] == b[0]) & ((a[1] < b[1]) | ((a[1] == b[1]) & np.signbit(a[0]))))
    return _specials(_dd_pick(less, a, b), naive, a, b)


def dd_max(a, b):
    naive = max_(a[0], b[0])
    a, b = _norm(a), _norm(b)
    more = (a[0] > b[0]) | ((a[0] == b[0]) & ((a[1] > b[1]) | ((a[1] == b[1]) & ~np.signbit(a[0]))))
    return _specials(_dd_pick(more, a, b), naive, a, b)


def dd_select(s, a, b):
    """a where s = hi + lo < 0, else b, the pair chosen unchanged (exact).  hi + lo
    rounded to float64 has the sign of the exact sum (a nonzero sum of two
    doubles is at least the smallest subnormal; an exact 0 gives +0); NaN gives b."""
    with np.errstate(invalid="ignore", over="ignore"):
        neg = (s[0] + s[1]) < 0
    return np.where(neg, a[0], b[0]), np.where(neg, a[1], b[1])


# ------------------------------------------------------------- mpmath forms
def mp_trunc(k) -> int:
    return int(mpmath.floor(k)) if k >= 0 else int(mpmath.ceil(k))


def mp_ldexp(a, k):
    return mpmath.ldexp(a, mp_trunc(k))


def mp_pow2(k):
    return mpmath.ldexp(mpmath.mpf(1), mp_trunc(k))


def mp_exponent(a):
    return mpmath.mpf(0) if a == 0 else mpmath.mpf(mpmath.frexp(a)[1])


def mp_significand(a):
    return a if a == 0 else mpmath.frexp(a)[0]


def mp_copysign(a, b):
    return -abs(a) if b < 0 else abs(a)


def mp_select(s, a, b):
    return a if s < 0 else b


# --------------------------------------- SymPy forms (also SymPy exports)
def rint_sym(a):
    """Nearest integer, ties to even: floor(a + 1/2), at ties 2 floor((a + 1) / 2)."""
    import sympy
    return sympy.Piecewise((2 * sympy.floor((a + 1) / 2), sympy.Eq(a - sympy.floor(a), sympy.Rational(1, 2))),
                           (sympy.floor(a + sympy.Rational(1, 2)), True))


def ldexp_sym(a, k):
    """a * 2^trunc(k) (no saturation: the exact real function)."""
    import sympy
    return a * 2 ** (sympy.sign(k) * sympy.floor(sympy.Abs(k)))


def pow2_sym(k):
    """2^trunc(k) (no range: the exact real function)."""
    import sympy
    return 2 ** (sympy.sign(k) * sympy.floor(sympy.Abs(k)))


def exponent_sym(a):
    """frexp's exponent: floor(log2 |a|) + 1, 0 at 0."""
    import sympy
    return sympy.Piecewise((0, sympy.Eq(a, 0)), (sympy.floor(sympy.log(sympy.Abs(a), 2)) + 1, True))


def significand_sym(a):
    return a / 2 ** exponent_sym(a)


def copysign_sym(a, b):
    import sympy
    return sympy.Piecewise((-sympy.Abs(a), b < 0), (sympy.Abs(a), True))


def abs_sym(a):
    import sympy
    return sympy.Abs(a)


def min_sym(a, b):
    import sympy
    return sympy.Min(a, b)


def max_sym(a, b):
    import sympy
    return sympy.Max(a, b)


def select_sym(s, a, b):
    """a where s < 0, else b (a NaN s gives b)."""
    import sympy
    if s is sympy.nan:
        return b
    return sympy.Piecewise((a, s < 0), (b, True))
