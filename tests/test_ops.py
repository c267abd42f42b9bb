import ctypes
import ctypes.util

import mpmath
import numpy as np
import pytest

from numsearch.primitives import doubledouble as ddm
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.ops import OPS


def _args(rng, arity, n, fmt):
    a = [fmt.round(rng.standard_normal(n) * np.exp2(rng.integers(-4, 4, n))) for _ in range(arity)]
    return a


@pytest.mark.parametrize("op", list(OPS))
def test_double_double_matches_mpmath(op):
    o = OPS[op]
    rng = np.random.default_rng(3)
    args = [(rng.standard_normal(200), rng.standard_normal(200) * 1e-17) for _ in range(o.arity)]
    hi, lo = o.dd(*args)
    with mpmath.workdps(60):
        for i in range(200):
            exact = o.mp(*(mpmath.mpf(a[0][i]) + mpmath.mpf(a[1][i]) for a in args))
            got = mpmath.mpf(hi[i]) + mpmath.mpf(lo[i])
            assert abs(got - exact) <= 1e-30 * abs(exact) + 1e-300


@pytest.mark.parametrize("fmt", [n for n in FORMATS if n != "real"])
@pytest.mark.parametrize("op", list(OPS))
def test_rounded_op_is_correctly_rounded(op, fmt):
    """Each op in each format = the exact result rounded once (mpmath at p bits)."""
    o, f = OPS[op], FORMATS[fmt]
    rng = np.random.default_rng(4)
    args = _args(rng, o.arity, 300, f)
    if op == "fma":  # include heavy cancellation
        args[2][:100] = f.round(-(args[0][:100] * args[1][:100]) * (1 + 2.0 ** -(f.precision + 3)))
    got = o.rounded(args, f)
    for i in range(300):
        with mpmath.workprec(300):
            exact = o.mp(*(mpmath.mpf(a[i]) for a in args))
        with mpmath.workprec(f.precision):
            v = float(+exact)  # one rounding to p bits, ties to even
        if v == 0 or abs(v) < 2.0 ** f.emin or abs(v) > f.max_finite:
            continue  # subnormal / overflow ranges are covered in test_formats
        assert got[i] == v, (op, fmt, [a[i] for a in args])


def test_fma_float64_matches_libm():
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.fma.restype = ctypes.c_double
    libm.fma.argtypes = [ctypes.c_double] * 3
    rng = np.random.default_rng(5)
    n = 20000
    a = rng.standard_normal(n) * np.exp2(rng.integers(-30, 30, n))
    b = rng.standard_normal(n)
    c = -a * b * (1 + rng.standard_normal(n) * np.exp2(-rng.integers(0, 60, n)))
    got = ddm.fma_float64(a, b, c)
    ref = np.array([libm.fma(*t) for t in zip(a.tolist(), b.tolist(), c.tolist())])
    assert np.array_equal(got, ref)


@pytest.mark.parametrize("op", list(OPS))
def test_partials_match_finite_differences(op):
    """The derivatives constant fitting uses: central differences wherever the op
    is smooth (0 where it is piecewise constant; kinks and jumps are skipped)."""
    o = OPS[op]
    rng = np.random.default_rng(6)
    args = [rng.choice([-1, 1], 400) * rng.uniform(0.3, 5, 400) for _ in range(o.arity)]
    parts = o.partials(*args)
    for i in range(o.arity):
        def diff(h):
            up = [a + h if j == i else a for j, a in enumerate(args)]
            dn = [a - h if j == i else a for j, a in enumerate(args)]
            return (o.f64(*up) - o.f64(*dn)) / (2 * h)
        fd, fd4 = diff(1e-5), diff(2.5e-6)
        smooth = np.abs(fd - fd4) <= 1e-6 * (1 + np.abs(fd))
        assert smooth.mean() > 0.8
        d = np.broadcast_to(parts[i], fd.shape)
        assert np.allclose(d[smooth], fd[smooth], rtol=1e-6, atol=1e-6), (op, i)


SELECT_FIT = ("c0 = 0x1.3333333333333p-2\nc1 = 0x1.b333333333333p+0\nc2 = -0x1.3333333333333p-1\nc3 = 0x1p-2\n"
              "v0 = sub(x, c0)\nv1 = mul(x, c1)\nv2 = fma(x, c2, c3)\nv3 = select(v0, v1, v2)\nreturn v3")


def test_select_jacobian_matches_finite_differences():
    """The fitter's derivatives through select (x c1 where x < c0, else x c2 + c3): central
    differences in each constant away from the switch at x = c0, through the compiled
    kernels and the interpreter alike; 0 in the selector's constant."""
    from numsearch.primitives import interpret, kernels
    from numsearch.primitives.program import parse_program
    p = parse_program(SELECT_FIT)
    x = np.linspace(-2, 2, 401)
    x = x[np.abs(x - p.consts[0]) > 1e-3]
    cs = np.array(p.consts)
    for jac in (kernels.value_and_jacobian, interpret.value_and_jacobian):
        v, J = jac(p, x)
        assert np.array_equal(v, np.where(x < cs[0], x * cs[1], x * cs[2] + cs[3]))
        for j in range(len(cs)):
            h = 1e-6 * max(1.0, abs(cs[j]))
            up, dn = cs.copy(), cs.copy()
            up[j] += h
            dn[j] -= h
            fd = (interpret.evaluate(p, x, "float64", up) - interpret.evaluate(p, x, "float64", dn)) / (2 * h)
            assert np.allclose(J[:, j], fd, rtol=1e-7, atol=1e-7), (jac.__module__, j)
        low = x < cs[0]
        assert np.all(J[:, 0] == 0) and np.array_equal(J[:, 1], np.where(low, x, 0.0))
        assert np.array_equal(J[:, 2], np.where(low, 0.0, x)) and np.array_equal(J[:, 3], np.where(low, 0.0, 1.0))


def test_fitter_fits_both_pieces_of_a_select():
    """From wrong constants in both pieces (the switch given), the fitter recovers
    them: each piece's constants get derivatives only where that piece is chosen."""
    from numsearch.primitives.program import parse_program
    from numsearch.search.fitting import fit_constants
    p = parse_program(SELECT_FIT)
    x = np.linspace(-2, 2, 257)
    y = np.where(x < 0.3, 1.7 * x, 0.25 - 0.6 * x)
    start = p.with_consts([0.3, 0.5, 2.0, -1.0])
    c, e = fit_constants(start, (x, y, np.ones_like(x)), (y, np.zeros_like(y)), np.random.default_rng(0),
                         polish=False)
    assert e < 1e-12 and np.allclose(c[1:], [1.7, -0.6, 0.25], rtol=0, atol=1e-12) and c[0] == 0.3
