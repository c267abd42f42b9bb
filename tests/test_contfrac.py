"""Rationals in continued-fraction form: same function as p/q, fewer ops."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

from numsearch.evaluators.contfrac import cf_cost, cf_program
from numsearch.evaluators.horner import horner_program
from numsearch.primitives.interpret import evaluate_float


def _rational(rng, m, n):
    num = [mpmath.mpf(float(v)) for v in rng.normal(size=m + 1)]
    # q > 0 on [-1, 1]: constant term dominates
    den = [mpmath.mpf(4.0 + n)] + [mpmath.mpf(float(v)) for v in rng.uniform(-1, 1, n)]
    return num, den


def _mp_value(num, den, x):
    return mpmath.polyval(num[::-1], x) / mpmath.polyval(den[::-1], x)


@pytest.mark.parametrize("m,n", [(0, 1), (1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (2, 3), (3, 3), (5, 2), (4, 4)])
def test_same_function_fewer_ops(m, n):
    rng = np.random.default_rng(10 * m + n)
    num, den = _rational(rng, m, n)
    p = cf_program(num, den)
    assert p is not None and p.ops == cf_cost(m, n)
    assert p.ops <= horner_program(num, den).ops
    if m == n:
        assert p.ops == 3 * n < 4 * n == horner_program(num, den).ops
    x = np.linspace(-1, 1, 101)
    got = evaluate_float(p, x, "real")
    with mpmath.workdps(40):
        want = np.array([float(_mp_value(num, den, mpmath.mpf(v))) for v in x.tolist()])
    # float64 constants: the two agree to ~1e-15 relative, away from zeros of p/q
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-3)) < 1e-11


def test_ops_are_those_of_the_form():
    """(2, 2): c + b1 / (x + a1 + b2 / (x + a2)) -- add, div, add, add, div, add."""
    num, den = _rational(np.random.default_rng(0), 2, 2)
    ops = [i.op for i in cf_program(num, den).instrs]
    assert sorted(ops) == ["add"] * 4 + ["div"] * 2


def test_non_normal_quotient_uses_monic_horner():
    """1 / (x^2 + 1): Euclid's first quotient has degree 2."""
    one = mpmath.mpf(1)
    p = cf_program([one], [one, 0 * one, one])
    x = np.linspace(-2, 2, 9)
    assert np.allclose(evaluate_float(p, x, "real"), 1 / (x * x + 1), rtol=1e-15)
    assert p.ops == 4  # (x + 0) * x + 1, then 1 / that


def test_not_a_rational():
    one = mpmath.mpf(1)
    assert cf_program([one, one], [2 * one]) is None       # a polynomial: Horner's business
    assert cf_program([one], [0 * one, 0 * one]) is None   # q = 0


def test_constants_rounded_to_the_format():
    from numsearch.primitives.formats import FORMATS
    num, den = _rational(np.random.default_rng(3), 3, 3)
    p = cf_program(num, den, "bfloat16")
    assert np.all(FORMATS["bfloat16"].representable(np.array(p.consts)))


@pytest.mark.parametrize("m,n", [(0, 1), (1, 1), (1, 2), (2, 2), (3, 3), (3, 4), (4, 4)])
def test_cf_levels_is_euclid(m, n):
    """a + b1/(x + s1 + b2/(x + s2 + ...)) from cf_levels equals num/den."""
    from numsearch.evaluators.contfrac import cf_levels

    rng = np.random.default_rng(7 * m + n)
    num, den = _rational(rng, m, n)
    a, levels = cf_levels(num, den)
    assert len(levels) == n and (m == n or a == 0)
    with mpmath.workdps(40):
        for x in (mpmath.mpf("-0.7"), mpmath.mpf("0.1"), mpmath.mpf("0.9")):
            inner = mpmath.mpf(0)
            for b, s in reversed(levels):
                inner = b / (x + s + inner)
            assert abs(a + inner - _mp_value(num, den, x)) < mpmath.mpf(10) ** -30


def test_cf_levels_refuses_other_types():
    from numsearch.evaluators.contfrac import cf_levels

    one = mpmath.mpf(1)
    assert cf_levels([one, one, one], [one, one]) is None    # deg p > deg q
    assert cf_levels([one, one], [one]) is None              # a polynomial
    assert cf_levels([one, 0 * one, 0 * one], [one, 0 * one, one]) is None  # (x^2 + ... ): remainder drops 2 degrees
