"""Range-reduction ops (rint, ldexp, exponent, significand, abs, copysign, min,
max, select) in every format against a reference written independently here (Python
ints and Fractions, one rounding to the format by hand), on edge cases:
signed zeros, subnormals, the ends of the range, ties, inf, NaN; and a
float32 exp built from them over the whole domain."""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.ops import OPS
from numsearch.primitives.program import parse_program

HARDWARE = [n for n in FORMATS if n != "real"]
EXP_PROGRAM = (Path(__file__).parent / "data" / "exp_float32_reduction.txt").read_text()


# ------------------------------------------------------------- reference
def round_to(q: Fraction, f, negative: bool = False) -> float:
    """The exact value q rounded once to format f (nearest, ties to even, gradual
    underflow, overflow to inf or NaN); a zero result takes the sign ``negative``."""
    if q == 0:
        return -0.0 if negative else 0.0
    e = max(abs(q.numerator).bit_length() - abs(q.denominator).bit_length(), f.emin)
    while abs(q) < Fraction(2) ** e and e > f.emin:  # e = floor(log2 |q|), at least emin
        e -= 1
    while abs(q) >= Fraction(2) ** (e + 1):
        e += 1
    step = Fraction(2) ** (e - f.precision + 1)
    r = round(q / step) * step  # Python rounds Fractions half to even
    if abs(r) > f.max_finite:
        return (math.inf if q > 0 else -math.inf) if f.has_inf else math.nan
    return math.copysign(float(r), -1.0 if (r == 0 and negative) or r < 0 else 1.0)


def _ref_rint(f, a):
    if not math.isfinite(a):
        return a
    return round_to(Fraction(round(Fraction(a))), f, math.copysign(1, a) < 0)


def _ref_ldexp(f, a, k):
    if math.isnan(k) or math.isnan(a):
        return math.nan
    if math.isinf(a) or a == 0:
        return a
    n = max(-2200, min(2200, int(k))) if math.isfinite(k) else math.copysign(2200, k)
    return round_to(Fraction(a) * Fraction(2) ** int(n), f, a < 0)


def _ref_exponent(f, a):
    if math.isnan(a):
        return a
    if math.isinf(a) or a == 0:
        return 0.0
    # |a| = m 2^e with 1/2 <= m < 1: e = bit length of the integer part of |a| 2^1100, less 1100
    e = (abs(Fraction(a)) * 2 ** 1100).__floor__().bit_length() - 1100
    return round_to(Fraction(e), f)


def _ref_significand(f, a):
    if not math.isfinite(a) or a == 0:
        return a
    return round_to(Fraction(a) / Fraction(2) ** int(_ref_exponent(FORMATS["float64"], a)), f, a < 0)


def _ref_copysign(f, a, b):
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return abs(a) if math.copysign(1, b) > 0 else -abs(a)


def _ref_min(f, a, b):
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == b:  # +-0: the negative one
        return a if math.copysign(1, a) < 0 else b
    return a if a < b else b


def _ref_max(f, a, b):
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == b:
        return b if math.copysign(1, a) < 0 else a
    return a if a > b else b


def _ref_select(f, s, a, b):
    """a where s is negative (its sign bit set, neither zero nor NaN), else b, as given (no rounding)."""
    if math.isnan(s) or s == 0:
        return b
    return a if math.copysign(1.0, s) < 0 else b


REFERENCE = {"rint": _ref_rint, "ldexp": _ref_ldexp, "pow2": lambda f, a: _ref_ldexp(f, 1.0, a), "exponent": _ref_exponent, "significand": _ref_significand,
             "abs": lambda f, a: abs(a), "copysign": _ref_copysign, "min": _ref_min, "max": _ref_max,
             "select": _ref_select}


# ------------------------------------------------------------- arguments
def edge_values(f):
    """Values of format f (as float64) at every edge the ops have."""
    p, emin = f.precision, f.emin
    tiny = 2.0 ** (emin - p + 1)
    emax = int(np.frexp(f.max_finite)[1]) - 1
    v = [0.0, tiny, 2 * tiny, 3 * tiny, 2.0 ** emin - tiny, 2.0 ** emin, 1.5 * 2.0 ** emin, f.max_finite,
         f.max_finite / 2, 2.0 ** emax, 0.5, 1.0, 1.5, 2.5, 3.5, 0.25, 0.75, 1 / 3, np.pi, 1e3,
         2.0 ** (p - 1) + 0.5, 2.0 ** (p - 1) - 0.5, 2.0 ** p, 2.0 ** p + 2, 2.0 ** (p + 3) + 8,
         1 - 2.0 ** -p, 1 + 2.0 ** (1 - p), 2 - 2.0 ** (1 - p), math.inf]
    v += [float(k) for k in range(emin - p - 2, emin - p + 3)] + [float(k) for k in range(emax - 1, emax + 4)]
    v += [float(emax - emin + p), float(emax - emin + p + 1), 2200.0, 2201.0, 1e6]
    v = np.array(v + [-x for x in v] + [math.nan])
    with np.errstate(all="ignore"):
        r = f.round(v)
    return r[np.isfinite(r) | np.isnan(v) | np.isinf(v)]


def _args(op, f):
    """Argument arrays for op: every edge value, every pair of them for binary ops;
    for select every edge value as s with every pair of a few (NaN, +-inf, +-0,
    subnormal, normal) as a and b."""
    v = edge_values(f)
    if OPS[op].arity == 1:
        return [v]
    if OPS[op].arity == 3:
        tiny = 2.0 ** (f.emin - f.precision + 1)
        ab = np.array([math.nan, 0.0, -0.0, tiny, -tiny, 1.0, -1.5, f.max_finite]
                      + ([math.inf, -math.inf] if f.has_inf else []))
        s, a, b = np.meshgrid(v, ab, ab, indexing="ij")
        return [s.ravel(), a.ravel(), b.ravel()]
    a, b = np.meshgrid(v, v, indexing="ij")
    return [a.ravel(), b.ravel()]


def same_bits(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


def _check(op, fmt, got, want, args):
    bad = ~same_bits(got, want)
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        pytest.fail(f"{op} in {fmt}: args {[[float(a[j]).hex() for a in args] for j in i]} "
                    f"got {[float(got[j]).hex() for j in i]} want {[float(want[j]).hex() for j in i]}")


# ------------------------------------------------------------- tests
def test_registry_has_the_reduction_ops():
    assert set(REFERENCE) <= set(OPS)


@pytest.mark.parametrize("fmt", HARDWARE)
@pytest.mark.parametrize("op", [o for o in OPS if o in REFERENCE])
def test_op_matches_reference_on_edges(op, fmt):
    """Every edge value (and pair): one rounding of the exact result, IEEE zeros, inf, NaN."""
    f = FORMATS[fmt]
    args = _args(op, f)
    got = OPS[op].rounded(args, f)
    want = np.array([REFERENCE[op](f, *(float(a[i]) for a in args)) for i in range(len(args[0]))])
    _check(op, fmt, got, want, args)


@pytest.mark.parametrize("op", [o for o in OPS if o in REFERENCE])
def test_real_format_matches_float64_reference(op):
    """In ``real`` (double-double) the ops on float64 inputs: the float64 result, low part 0."""
    f = FORMATS["float64"]
    args = _args(op, f)
    with np.errstate(all="ignore"):
        hi, lo = OPS[op].real(*((a, np.zeros_like(a)) for a in args))
    want = np.array([REFERENCE[op](f, *(float(a[i]) for a in args)) for i in range(len(args[0]))])
    _check(op, "real", hi, want, args)
    assert np.all((lo == 0) | np.isnan(hi))


@pytest.mark.parametrize("fmt", FORMATS.names())
def test_select_edges(fmt):
    """select(s, a, b) in every format, interpreter and compiled kernels: a exactly where
    s < 0 (-1, -inf, the smallest negative subnormal), b where s is -0, +0, NaN or positive;
    a NaN, inf or -0 in a or b comes out (bit for bit) only where it is the one chosen."""
    from numsearch.primitives import kernels
    f = FORMATS["float64" if fmt == "real" else fmt]   # (a mixed format's values are its compute format's too)
    tiny = 2.0 ** (f.emin - f.precision + 1)
    big = math.inf if f.has_inf else f.max_finite
    s = [-1.0, -0.0, 0.0, 1.0, math.nan, -big, big, -tiny, tiny]
    takes_a = [True, False, False, False, False, True, False, True, False]
    pairs = [(math.nan, 2.5), (-0.5, math.nan), (big, -0.0), (-0.0, -big), (0.0, -0.0), (-0.0, 0.0)]
    x = np.array(s)
    for a, b in pairs:
        prog = parse_program(f"c0 = {float(a).hex()}\nc1 = {float(b).hex()}\nv0 = select(x, c0, c1)\nreturn v0")
        want = np.array([a if t else b for t in takes_a])
        for run in (evaluate, kernels.evaluate):
            got = run(prog, x, fmt)
            if fmt == "real":
                assert np.all(got[1] == 0), (a, b)
                got = got[0]
            assert same_bits(got, want).all(), (fmt, run.__module__, a, b, got)


def test_select_real_keeps_the_low_parts_and_reads_the_sign_of_hi_plus_lo():
    """In double-double the chosen pair comes back unchanged (its low part too); the
    sign is that of hi + lo: a zero hi with a negative low part is negative."""
    dd = OPS["select"].dd
    one = (np.array([1.0]), np.array([1e-20]))
    two = (np.array([2.0]), np.array([-1e-19]))
    for s, want in [((-1.0, 0.0), one), ((-0.0, 0.0), two), ((0.0, -1e-300), one), ((0.0, 1e-300), two),
                    ((-1e-300, 0.0), one), ((math.nan, 0.0), two), ((-math.inf, 0.0), one)]:
        hi, lo = dd((np.array([s[0]]), np.array([s[1]])), one, two)
        assert hi[0] == want[0][0] and lo[0] == want[1][0], s


def test_select_in_program_text_and_folding():
    """select parses and prints as a 3-operand instruction, refuses another arity, and a
    select of constants folds to the constant chosen (-0 as s picks the second)."""
    from numsearch.primitives.program import ProgramError
    text = "c0 = -0x0p+0\nc1 = 0x1.8p+1\nc2 = -0x1p-2\nv0 = select(c0, c1, c2)\nv1 = select(x, v0, x)\nreturn v1"
    p = parse_program(text)
    assert parse_program(p.text()) == p and "v0 = select(c0, c1, c2)" in p.text() and p.ops == 1 and p.instrs[1].args == ("x", "v0", "x")
    folded = p.fold_constants()
    assert len(folded.instrs) == 1 and folded.consts == (-0.25,)
    with pytest.raises(ProgramError, match="select takes 3 args"):
        parse_program("v0 = select(x, x)\nreturn v0")


def test_rint_ties_and_zeros():
    f = FORMATS["float32"]
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.3, 2.0 ** 22 + 0.5, 2.0 ** 22 + 1.5, 2.0 ** 24 + 2, 1e30])
    got = OPS["rint"].rounded([x], f)
    want = np.array([0.0, 2.0, 2.0, -0.0, -2.0, -2.0, -0.0, 2.0 ** 22, 2.0 ** 22 + 2, 2.0 ** 24 + 2,
                     float(np.float32(1e30))])
    assert same_bits(got, want).all()


@pytest.mark.parametrize("fmt", HARDWARE)
def test_ldexp_ends_of_range(fmt):
    """2^k unrepresentable but a*2^k representable: no early overflow or flush; a
    subnormal result rounded once (ties to even); past the range inf (NaN in e4m3fn)."""
    f = FORMATS[fmt]
    p, emin, emax = f.precision, f.emin, int(np.frexp(f.max_finite)[1]) - 1
    tiny = 2.0 ** (emin - p + 1)
    cases = [(0.5, emax + 1, 2.0 ** emax),                            # 2^(emax+1) is not a value
             (tiny, emax - (emin - p + 1), 2.0 ** emax),              # 2^k far past the range
             (1.0, emin - p + 1, tiny), (1.0, emin - p, 0.0),           # half the smallest: tie to 0
             (1.5, emin - p + 1, 2 * tiny),                           # 1.5 tiny: tie to even 2 tiny
             (1.5, emin - p, tiny), (-1.5, emin - p - 3, -0.0),
             (f.max_finite, -(emax - emin + p), tiny),                 # (1 - 2^-p) tiny or so: up
             (1.0, emax + 1, math.inf if f.has_inf else math.nan), (-1.0, 2e6, -math.inf if f.has_inf else math.nan),
             (2 * tiny, -1e6, 0.0), (3.0, math.nan, math.nan), (math.inf, -1e6, math.inf), (-0.0, 1e6, -0.0)]
    for a, k, want in cases:
        kf = float(f.round(np.array([k]))[0])  # float8: some exponents are not values of the format
        got = OPS["ldexp"].rounded([np.array([a]), np.array([kf])], f)[0]
        assert same_bits(got, _ref_ldexp(f, a, kf)), (fmt, a, kf, got)
        if same_bits(kf, k) or np.isinf(kf):
            assert same_bits(got, want), (fmt, a, k, got, want)


def test_ldexp_float32_examples():
    f = FORMATS["float32"]
    ld = lambda a, k: OPS["ldexp"].rounded([np.array([a]), np.array([float(k)])], f)[0]
    assert ld(0.5, 128) == 2.0 ** 127
    assert ld(1.5, -130) == 1.5 * 2.0 ** -130  # subnormal, exact
    assert ld(1 + 2.0 ** -23, -140) == 2.0 ** -140  # subnormal, rounded (the low bit is lost)
    assert ld(1.75, -149) == 2.0 ** -148 and ld(1.25, -149) == 2.0 ** -149
    assert ld(2.0 ** -149, 277) == math.inf and ld(2.0 ** -149, 276) == 2.0 ** 127


@pytest.mark.parametrize("fmt", FORMATS.names())
def test_significand_and_exponent_rebuild_every_value(fmt):
    """ldexp(significand(a), exponent(a)) == a, 1/2 <= |significand| < 1 (formats whose
    significand holds every exponent; float8_e5m2's holds integers up to 8 only)."""
    f = FORMATS[fmt]
    prog = parse_program("v0 = significand(x)\nv1 = exponent(x)\nv2 = ldexp(v0, v1)\nreturn v2")
    x = edge_values(FORMATS["float64" if fmt == "real" else fmt])
    y = evaluate(prog, x, fmt)
    m = evaluate(parse_program("v0 = significand(x)\nreturn v0"), x, fmt)
    if fmt == "real":
        y, m = y[0], m[0]
    finite = np.isfinite(x) & (x != 0)
    assert np.all((np.abs(m[finite]) >= 0.5) & (np.abs(m[finite]) < 1))
    if fmt == "float8_e5m2":
        x = x[np.abs(np.frexp(x)[1]) <= 8]
        y = evaluate(prog, x, fmt)
    assert same_bits(y, x).all()


def test_double_double_ties_and_edges():
    """The real format's forms are exact on double-doubles whose low part decides."""
    F = Fraction
    cases = [("rint", [(2.5, -1e-17)], 2), ("rint", [(3.5, -1e-17)], 3), ("rint", [(3.5, 1e-17)], 4),
             ("rint", [(2.0 ** 52 + 1, 0.5)], 2 ** 52 + 2), ("rint", [(2.0 ** 52 + 1, -0.5)], 2 ** 52),
             ("rint", [(2.0 ** 52, 0.5)], 2 ** 52), ("rint", [(2.0 ** 60, -0.5)], 2 ** 60),
             ("rint", [(5.0, -1e-30)], 5), ("rint", [(2.0 ** 60, 3.0)], 2 ** 60 + 3),
             ("exponent", [(1.0, -1e-20)], 0), ("exponent", [(1.0, 1e-20)], 1),
             ("ldexp", [(3.0, 0.0), (4.0, -1e-20)], 24), ("ldexp", [(3.0, 0.0), (-4.0, 1e-20)], F(3, 8)),
             ("min", [(1.0, 1e-20), (1.0, -1e-20)], 1 - F(1e-20)), ("max", [(1.0, 1e-20), (1.0, -1e-20)], 1 + F(1e-20))]
    for op, args, want in cases:
        hi, lo = OPS[op].dd(*((np.array([h]), np.array([lo])) for h, lo in args))
        assert F(hi[0]) + F(lo[0]) == want, (op, args)
        with mpmath.workdps(50):
            exact = OPS[op].mp(*(mpmath.mpf(h) + mpmath.mpf(lo) for h, lo in args))
            assert exact == mpmath.mpf(F(want).numerator) / F(want).denominator, (op, args)


def test_exp_by_range_reduction_float32():
    """exp in float32 from rint and ldexp over its whole domain: x clamped to [-104, 89]
    (min, max), k = rint(x / ln2), r = x - k ln2 (hi and lo), a degree-7 polynomial p(r),
    then ldexp(p, k): within 1 ULP on [-87, 88], inf past the overflow threshold,
    subnormal results within one subnormal step of exp, 0 where exp is below half of it."""
    prog = parse_program(EXP_PROGRAM)
    f = FORMATS["float32"]
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([bits[np.isfinite(bits)], np.linspace(-104, 89, 100_001, dtype=np.float32),
                        np.float32([88.72283, 88.72284, -87.33654, -103.27893, -103.97208])]).astype(np.float64)
    y = evaluate(prog, x, "float32")
    with np.errstate(over="ignore"):
        ref = np.exp(x)  # float64 exp: 2^-52 relative, far below a float32 ulp
    normal = (x >= -87) & (x <= 88)
    assert np.max(np.abs(y[normal] - ref[normal]) / f.ulp(ref[normal])) < 1.5
    with np.errstate(over="ignore"):
        over = np.isinf(ref.astype(np.float32))  # exp(x) rounds to inf in float32
    assert np.array_equal(np.isinf(y) & (x < np.inf), over & (x < np.inf)) and over.sum() > 1000
    sub = (x < -87.34) & (x > -104)  # subnormal results
    assert np.all(np.abs(y[sub] - ref[sub]) <= 2.0 ** -149) and np.any(y[sub] > 0)
    assert np.all(y[x <= -104] == 0) and np.all(y[ref < 0.49 * 2.0 ** -149] == 0)
    special = evaluate(prog, np.array([np.inf, -np.inf, np.nan, 0.0, -0.0]), "float32")
    assert same_bits(special, [np.inf, 0.0, np.nan, 1.0, 1.0]).all()
