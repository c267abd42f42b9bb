"""Double-double arithmetic over the whole float64 range, checked against exact
rational arithmetic on the value hi + lo.

Bound asserted for finite results: |hi + lo - exact| <= 2^-100 |exact| + 4 * 2^-1074
(relative to |a*b| + |c| for fma of double-double operands).  The algorithms
are good to a few units of 2^-106 relatively (the worst seen is ~2^-104.5); the
absolute term is where double-doubles can resolve no finer than 2^-1074
(results or partial products below ~2^-968).  Where the exact result rounds
to +-inf in float64 (|x| >= 2^1024 - 2^970), the result must be (+-inf, 0);
within 2^-90 of that threshold either outcome is accepted.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

from numsearch.primitives import doubledouble as ddm
from numsearch.primitives.interpret import evaluate, evaluate_float
from numsearch.primitives.ops import OPS
from numsearch.primitives.program import parse_program

MAX = float(np.finfo(np.float64).max)
OVERFLOW = Fraction(2**1024 - 2**970)  # exact values at or above this round to inf
REL = Fraction(1, 2**100)
ABS = Fraction(4, 2**1074)

_MAGS = [MAX, float(np.nextafter(MAX, 0)), MAX / 2, 1e308, 1e307, 2.0**1000, 2.0**997, 1.3e300, 1e300,
         2.0**996, 1e200, 1e154, 3.0, 1.0, 1 / 3, 1e-154, 1e-200, 1e-300, 2.0**-960, 2.0**-1022, 1e-310,
         3 * 2.0**-1074, 5e-324]
VALUES = np.array(_MAGS + [-v for v in _MAGS])  # top of the range, ordinary, tiny, subnormal; both signs

EXACT = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "fma": lambda a, b, c: a * b + c,
}
DD_OPS = {"add": ddm.dd_add, "sub": ddm.dd_sub, "mul": ddm.dd_mul, "div": ddm.dd_div, "fma": ddm.dd_fma}


def _value(hi, lo) -> Fraction:
    return Fraction(float(hi)) + Fraction(float(lo))


def _check(hi, lo, exact: Fraction, scale: Fraction, where):
    hi, lo = float(hi), float(lo)
    if abs(exact) >= OVERFLOW * (1 + Fraction(1, 2**90)):
        assert math.isinf(hi) and (hi > 0) == (exact > 0) and lo == 0, (where, hi, lo)
        return
    if abs(exact) > OVERFLOW * (1 - Fraction(1, 2**90)) and math.isinf(hi):
        return  # at the threshold itself: inf is as right as max
    assert math.isfinite(hi) and math.isfinite(lo), (where, hi, lo, float(exact))
    assert hi + lo == hi, (where, "not normalised", hi, lo)
    err = abs(_value(hi, lo) - exact)
    assert err <= REL * scale + ABS, (where, hi, lo, float(err / scale) if scale else err)


def _check_op(op, args, dd_scale=False):
    """args: double-double operands (hi, lo) of equal-length arrays."""
    hi, lo = DD_OPS[op](*args)
    for i in range(len(hi)):
        xs = [_value(a[0][i], a[1][i]) for a in args]
        if op == "div" and xs[1] == 0:
            continue
        exact = EXACT[op](*xs)
        scale = abs(xs[0] * xs[1]) + abs(xs[2]) if dd_scale else abs(exact)
        _check(hi[i], lo[i], exact, scale, (op, [(float(a[0][i]), float(a[1][i])) for a in args]))


def _random_dd(rng, n, with_lo=True):
    """Double-doubles spread over the whole range: uniform exponents, the top
    binades, ordinary, tiny and subnormal numbers, max float64 itself."""
    kind = rng.integers(0, 5, n)
    m = rng.uniform(1, 2, n)
    hi = np.ldexp(m, rng.integers(-1074, 1024, n))
    hi = np.where(kind == 1, np.ldexp(m, rng.integers(990, 1024, n)), hi)
    hi = np.where(kind == 2, MAX * rng.uniform(0.5, 1, n), hi)
    hi = np.where(kind == 3, np.ldexp(m, rng.integers(-1074, -950, n)), hi)
    hi = np.where(kind == 4, rng.standard_normal(n), hi)
    hi[rng.random(n) < 0.03] = MAX
    hi = np.where(np.isfinite(hi), hi, MAX) * rng.choice([-1.0, 1.0], n)
    if not with_lo:
        return hi, np.zeros(n)
    with np.errstate(all="ignore"):
        s, e = ddm.fast_two_sum(hi, hi * rng.uniform(-1, 1, n) * 2.0**-53)
    ok = np.isfinite(s)
    return np.where(ok, s, hi), np.where(ok, e, 0.0)


# ---------------------------------------------------------------- the ops

@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_op_on_all_pairs_of_extreme_floats(op):
    a, b = np.meshgrid(VALUES, VALUES)
    a, b = a.ravel(), b.ravel()
    _check_op(op, [ddm.dd(a), ddm.dd(b)])


@pytest.mark.parametrize("with_lo", [False, True], ids=["float64", "double-double"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "fma"])
def test_op_on_random_operands_over_the_whole_range(op, with_lo):
    rng = np.random.default_rng(["add", "sub", "mul", "div", "fma"].index(op) + 10 * with_lo)
    n = 1500
    args = [_random_dd(rng, n, with_lo) for _ in range(3 if op == "fma" else 2)]
    k = rng.random(n) < 0.3  # heavy cancellation for add / sub / fma
    if op in ("add", "sub"):
        other = -args[0][0] if op == "add" else args[0][0]
        args[1] = (np.where(k, other, args[1][0]), np.where(k, 0.0, args[1][1]))
    if op == "fma":
        with np.errstate(over="ignore"):
            p = args[0][0] * args[1][0]
        k &= np.isfinite(p)
        args[2] = (np.where(k, -p, args[2][0]), np.where(k, 0.0, args[2][1]))
    _check_op(op, args, dd_scale=(op == "fma" and with_lo))


def test_fma_on_extreme_floats():
    rng = np.random.default_rng(7)
    a, b, c = (rng.choice(VALUES, 3000) for _ in range(3))
    _check_op("fma", [ddm.dd(a), ddm.dd(b), ddm.dd(c)])


def test_results_near_the_top_of_the_range():
    two = ddm.dd
    # the case: 1.5 / 1e-300 is finite (Dekker's split of 1.5e300 overflowed)
    hi, lo = ddm.dd_div(two([1.5, 1.0]), two([1e-300, 1e-308]))
    _check(hi[0], lo[0], Fraction(1.5) / Fraction(1e-300), Fraction(1.5) / Fraction(1e-300), "1.5/1e-300")
    _check(hi[1], lo[1], 1 / Fraction(1e-308), 1 / Fraction(1e-308), "1/1e-308")
    # max float64 passes through mul / div / add unharmed
    hi, lo = ddm.dd_mul(two([MAX, MAX]), two([1.0, -0.5]))
    assert hi.tolist() == [MAX, -MAX / 2] and lo.tolist() == [0.0, 0.0]
    hi, lo = ddm.dd_div(two([MAX, -MAX]), two([1.0, MAX]))
    assert hi.tolist() == [MAX, -1.0] and lo.tolist() == [0.0, 0.0]
    hi, lo = ddm.dd_add(two([MAX, MAX]), two([-1.5 * 2.0**971, 2.0**969]))  # TwoSum's s - a overflowed
    _check(hi[0], lo[0], Fraction(MAX) - Fraction(1.5 * 2.0**971), Fraction(MAX), "max - 1.5 ulp")
    _check(hi[1], lo[1], Fraction(MAX) + Fraction(2.0**969), Fraction(MAX), "max + ulp/4")
    # a*b overflows, a*b + c does not: fma(2^512, 2^512, -max) = 2^971
    hi, lo = ddm.dd_fma(two([2.0**512, MAX]), two([2.0**512, 2.0]), two([-MAX, -MAX]))
    assert hi.tolist() == [2.0**971, MAX] and lo.tolist() == [0.0, 0.0]


def test_overflow_is_inf_of_the_right_sign_not_nan():
    two = ddm.dd
    cases = [
        (ddm.dd_add, (two([MAX, -MAX]), two([MAX, -1e300])), [np.inf, -np.inf]),
        (ddm.dd_sub, (two([MAX, -MAX]), two([-MAX, 2.0**971])), [np.inf, -np.inf]),
        (ddm.dd_mul, (two([1e200, -1e300, MAX]), two([1e200, 1e10, -MAX])), [np.inf, -np.inf, -np.inf]),
        (ddm.dd_div, (two([1e300, -MAX, 1.0]), two([1e-10, 0.5, -5e-324])), [np.inf, -np.inf, -np.inf]),
        (ddm.dd_fma, (two([1e200, MAX]), two([-1e200, 2.0]), two([1e300, 1.0])), [-np.inf, np.inf]),
    ]
    for f, args, want in cases:
        hi, lo = f(*args)
        assert hi.tolist() == want, f.__name__
        assert lo.tolist() == [0.0] * len(want), f.__name__


def test_ieee_specials_and_zero_divisors():
    two = ddm.dd
    hi, lo = ddm.dd_div(two([1.0, -1.0, 0.0, 1.0, np.inf, np.nan]), two([0.0, 0.0, 0.0, np.inf, 2.0, 1.0]))
    assert hi[0] == np.inf and hi[1] == -np.inf and np.isnan(hi[2]) and hi[3] == 0.0 and hi[4] == np.inf
    assert np.isnan(hi[5]) and not lo[:5].any()
    hi, _ = ddm.dd_fma(two([1e200, 2.0, np.inf]), two([1e200, 3.0, 0.0]), two([-np.inf, np.inf, 1.0]))
    assert hi[0] == -np.inf and hi[1] == np.inf and np.isnan(hi[2])
    hi, _ = ddm.dd_add(two([np.inf, np.inf]), two([-np.inf, 1.0]))
    assert np.isnan(hi[0]) and hi[1] == np.inf


def test_scalars_and_broadcasting():
    hi, lo = ddm.dd_mul((np.array([1e300, 1.0]), np.zeros(2)), (np.array([[1e10], [2.0]]), np.zeros((2, 1))))
    assert hi.tolist() == [[np.inf, 1e10], [2e300, 2.0]]
    hi, lo = ddm.dd_div((1.5, 0.0), (1e-300, 0.0))
    _check(hi, lo, Fraction(1.5) / Fraction(1e-300), Fraction(1.5) / Fraction(1e-300), "scalar")


def test_real_op_finite_where_the_float64_op_on_the_high_parts_overflows():
    # a.hi * b.hi rounds to inf, but a.lo pulls the exact product below the
    # overflow threshold: the double-double result is finite (max float64 + a bit)
    a = (np.array([float.fromhex("0x1.3e84f5a6be0b4p+1023")]), np.array([-2.0**969]))
    b = (np.array([float.fromhex("0x1.9b8106ec9d286p+0")]), np.zeros(1))
    exact = _value(a[0][0], a[1][0]) * _value(b[0][0], b[1][0])
    assert exact < OVERFLOW
    hi, lo = OPS["mul"].real(a, b)
    assert hi[0] == MAX
    _check(hi[0], lo[0], exact, exact, "mul")


# ---------------------------------------------------------------- error-free transformations

def _fractions(*arrays):
    return [[Fraction(float(v)) for v in x] for x in arrays]


def test_split_is_exact_with_26_bit_parts_up_to_max():
    a = np.concatenate([VALUES, _random_dd(np.random.default_rng(1), 2000, False)[0]])
    hi, lo = ddm.split(a)
    assert np.isfinite(hi).all() and np.isfinite(lo).all()
    for x, h, l in zip(*_fractions(a, hi, lo)):
        assert h + l == x
    _, e = np.frexp(a)
    with np.errstate(under="ignore"):
        assert (np.ldexp(np.abs(hi), 26 - e) % 1 == 0).all()  # hi: the leading 26 bits
        top = np.abs(a) > float(2**1024 - 2**997)  # rounding to 26 bits would give 2^1024
        ml, _ = np.frexp(lo)
        assert (np.ldexp(np.abs(ml), np.where(top, 27, 26)) % 1 == 0).all()
    hi, lo = ddm.split(np.array([MAX, -MAX]))
    assert hi.tolist() == [float(2**1024 - 2**998), -float(2**1024 - 2**998)]
    assert lo.tolist() == [float(2**998 - 2**971), -float(2**998 - 2**971)]


def test_two_sum_is_exact_and_zero_error_on_overflow():
    rng = np.random.default_rng(2)
    a = np.concatenate([np.repeat(VALUES, len(VALUES)), _random_dd(rng, 2000, False)[0], [-1.5 * 2.0**971]])
    b = np.concatenate([np.tile(VALUES, len(VALUES)), _random_dd(rng, 2000, False)[0], [MAX]])
    swap = np.abs(a) < np.abs(b)
    big, small = np.where(swap, b, a), np.where(swap, a, b)
    for s, e in (ddm.two_sum(a, b), ddm.fast_two_sum(big, small)):
        with np.errstate(over="ignore"):
            assert np.array_equal(s, a + b)
        for x, y, ss, ee in zip(a.tolist(), b.tolist(), s.tolist(), e.tolist()):
            if math.isinf(ss):
                assert ee == 0
            else:
                assert Fraction(ss) + Fraction(ee) == Fraction(x) + Fraction(y), (x, y)
    s, e = ddm.two_sum(np.array([-1.5 * 2.0**971]), np.array([MAX]))
    assert s[0] == MAX - 2.0**971 and e[0] == -2.0**970


def test_two_prod_error_is_exact_or_correctly_rounded():
    rng = np.random.default_rng(3)
    a = np.concatenate([np.repeat(VALUES, len(VALUES)), _random_dd(rng, 3000, False)[0]])
    b = np.concatenate([np.tile(VALUES, len(VALUES)), _random_dd(rng, 3000, False)[0]])
    with np.errstate(over="ignore", under="ignore"):  # products of all magnitudes, near underflow too
        b[-1500:] = np.ldexp(rng.uniform(1, 2, 1500), rng.integers(-1100, 1100, 1500)) / a[-1500:]
    b = np.where(np.isfinite(b) & (b != 0), b, 1.0)
    p, e = ddm.two_prod(a, b)
    with np.errstate(over="ignore", under="ignore"):
        assert np.array_equal(p, a * b)
    for x, y, pp, ee in zip(a.tolist(), b.tolist(), p.tolist(), e.tolist()):
        if math.isinf(pp):
            assert ee == 0
        else:  # e = a*b - p rounded to nearest: exact unless it underflows
            assert ee == float(Fraction(x) * Fraction(y) - Fraction(pp)), (x, y)


# ---------------------------------------------------------------- through the interpreter

def test_real_format_division_by_tiny_x_is_finite_and_matches_float64():
    p = parse_program("c0 = 1.5\nv0 = div(c0, x)\nreturn v0")
    x = np.array([1e-300, -1e-300, 3e-301, 1e-305, 1e-308, 9e-309])  # quotients 1.5e300 .. 1.7e308
    hi, lo = evaluate(p, x, "real")
    assert np.isfinite(hi).all() and np.isfinite(lo).all()
    for xi, h, l in zip(x.tolist(), hi.tolist(), lo.tolist()):
        exact = Fraction(1.5) / Fraction(xi)
        assert abs(_value(h, l) - exact) <= REL * abs(exact)
    assert np.array_equal(evaluate_float(p, x, "real"), evaluate_float(p, x, "float64"))
    # past the range: inf with the quotient's sign, not NaN (x = 0: as float64)
    x = np.array([5e-324, -1e-310, 0.0])
    assert evaluate_float(p, x, "real").tolist() == [np.inf, -np.inf, np.inf]


def test_real_format_program_near_the_top_of_the_range():
    # 2.25 / x through 1.5 / x and an fma: finite up to max float64, inf past it
    p = parse_program("c0 = 0x1.8p+0\nc1 = 0x1p-1\nv0 = div(c0, x)\nv1 = fma(v0, c1, v0)\nreturn v1")
    x = np.array([1e-300, 2e-308, 1.3e-308, 1e300, 1.0, 1e-308, -5e-324])
    y = evaluate_float(p, x, "real")
    for xi, yi in zip(x.tolist(), y.tolist()):
        exact = Fraction(9, 4) / Fraction(xi)
        if abs(exact) < OVERFLOW:
            assert yi == float(exact), xi
        else:
            assert yi == (math.inf if exact > 0 else -math.inf), xi
    assert np.isfinite(y[:5]).all() and y[5:].tolist() == [np.inf, -np.inf]
