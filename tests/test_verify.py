"""Verification back-end: exhaustive / sampled ULP checks, the float64 NumPy
target walk, and JAX timing (no assertion on speed)."""
import dataclasses
import json
import math

import ml_dtypes
import mpmath
import numpy as np
import pytest

from numsearch.evaluators import values
from numsearch.evaluators import verify as V
from numsearch.evaluators.reference import reference
from numsearch.evaluators.targets import FUNCTIONS, Target, numpy_functions
from numsearch.primitives.formats import FORMATS
from numsearch.primitives import native
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.program import parse_program

# exp(x) ~ 1 + x + x^2/2 + x^3/6 in Horner form: 6 ops
POLY = parse_program("""
c0 = 1.0
c1 = 0.5
c2 = 0x1.5555555555555p-3
v0 = mul(x, c2)
v1 = add(v0, c1)
v2 = mul(v1, x)
v3 = add(v2, c0)
v4 = mul(v3, x)
v5 = add(v4, c0)
return v5
""")
IDENTITY = parse_program("return x")


def _bf16(v):
    return np.asarray(v, dtype=np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)


def test_exhaustive_bfloat16_matches_bruteforce_mpmath():
    lo, hi = 0.0, 2.0
    res = V.ulp_check(POLY, "exp", lo, hi, "bfloat16")
    # independent: every bfloat16 bit pattern, the program in float32 rounded
    # to bfloat16 after each op, errors in mpmath
    x = np.arange(1 << 16, dtype=np.uint16).view(ml_dtypes.bfloat16).astype(np.float32)
    x = np.unique(x[np.isfinite(x) & (x >= lo) & (x <= hi)])
    c2 = _bf16(1 / 6)
    y = _bf16(_bf16(_bf16(_bf16(_bf16(x * c2) + 0.5) * x) + 1) * x)
    y = _bf16(y + 1)
    errs = []
    with mpmath.workdps(30):
        for xi, yi in zip(x.tolist(), y.tolist()):
            f = mpmath.exp(xi)
            e = mpmath.frexp(f)[1] - 1
            errs.append(float(abs(yi - f) / mpmath.ldexp(1, max(e, -126) - 7)))
    errs = np.array(errs)
    assert res.exhaustive and res.points == len(x) and res.undefined == 0
    assert res.max_ulp == pytest.approx(errs.max(), rel=1e-9)
    assert res.x_max_ulp == x[np.argmax(errs)]
    assert res.mean_ulp == pytest.approx(errs.mean(), rel=1e-9)
    assert res.reference_check.max_ulp_mpmath == pytest.approx(errs.max(), rel=1e-9)
    # chunking and progress do not change the figures
    seen = []
    res2 = V.ulp_check(POLY, "exp", lo, hi, "bfloat16", chunk=1000, progress=lambda d, t: seen.append((d, t)))
    assert res2.max_ulp == res.max_ulp and res2.mean_ulp == pytest.approx(res.mean_ulp, rel=1e-12)
    assert seen[-1] == (len(x), len(x)) and len(seen) == math.ceil(len(x) / 1000)


@pytest.mark.parametrize("fmt", ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_identity_is_exact_on_every_value(fmt):
    res = V.ulp_check(IDENTITY, "x", -3.0, 3.0, fmt, ref_check=50)
    assert res.max_ulp == 0.0 and res.max_abs == 0.0 and res.max_rel == 0.0
    assert res.points == values.count_values(fmt, -3.0, 3.0) > 0


def test_float32_exhaustive_small_interval_agrees_with_mpmath():
    lo, hi = 1.0, 1.001
    res = V.ulp_check(POLY, "exp", lo, hi, "float32", ref_check=3000)
    assert res.points == math.floor(0.001 * 2 ** 23) + 1
    assert res.ulp_format == "float32" and res.reference == "numpy-float64"
    assert res.reference_check.max_ref_diff_ulp < 0.01
    # the same figures from the mpmath reference on every point
    x = np.arange(np.float32(lo).view(np.uint32), np.float32(1.001).view(np.uint32) + 1,
                  dtype=np.uint32).view(np.float32).astype(np.float64)
    x = x[x <= hi]
    y = evaluate(POLY, x, "float32")
    hi_, lo_ = reference(Target("exp"), x, cache=False)
    err = np.abs((y - hi_) - lo_) / FORMATS["float32"].ulp(hi_)
    assert res.max_ulp == pytest.approx(err.max(), rel=1e-7)
    assert res.x_max_ulp == x[np.argmax(err)]


def test_float32_ranges_across_zero_and_subnormals():
    tiny = 2.0 ** -140  # bits 512 above zero
    assert values.count_values("float32", -tiny, tiny) == 1025
    res = V.ulp_check(IDENTITY, "x", -tiny, tiny, "float32", ref_check=20)
    assert res.points == 1025 and res.max_ulp == 0.0
    assert values.count_values("float32", 0.0, 1.0) == 0x3F800000 + 1


def test_eval_float32_is_the_interpreter_bit_for_bit():
    prog = parse_program("""
c0 = 0x1.8p-1
c1 = 3.0e-39
v0 = mul(x, c0)
v1 = fma(v0, x, c1)
v2 = div(v1, x)
v3 = sub(v2, c1)
v4 = neg(v3)
v5 = add(v4, c0)
v6 = mul(c0, c0)
v7 = fma(v5, v6, x)
return v7
""")
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2 ** 32, 200000, dtype=np.uint64).astype(np.uint32)
    x32 = np.concatenate([bits.view(np.float32), np.float32([0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 1e-39])])
    got = native.eval_float32(prog, x32).astype(np.float64)
    with np.errstate(invalid="ignore"):
        want = evaluate(prog, x32.astype(np.float64), "float32")
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float32_fma_double_rounding_cases():
    from numsearch.primitives.doubledouble import fma_narrow
    rng = np.random.default_rng(5)
    n = 100000
    # 3 * b is an odd 25-bit integer: a float32 midpoint that a tiny c must break
    b = (rng.integers(2 ** 24 // 3 + 1, 2 ** 25 // 3, n) | 1).astype(np.float64) * 2.0 ** -24
    a = np.full(n, 3.0)
    c = rng.choice([2.0 ** -70, -(2.0 ** -70), 0.0, -0.0, 2.0 ** -149], n)
    bits = rng.integers(0, 2 ** 32, (3, n), dtype=np.uint64).astype(np.uint32).view(np.float32).astype(np.float64)
    a, b, c = (np.concatenate(v) for v in
               ((a, bits[0], bits[0]), (b, bits[1], bits[1]), (c, bits[2], -bits[0] * bits[1])))
    with np.errstate(all="ignore"):
        c = c.astype(np.float32).astype(np.float64)
        want = fma_narrow(a, b, c, FORMATS["float32"].round)
    got = native.fma_float32(a.astype(np.float32), b.astype(np.float32), c.astype(np.float32)).astype(np.float64)
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))
    naive = (a * b + c).astype(np.float32).astype(np.float64)
    assert (naive[:n] != want[:n]).sum() > n // 10  # the double-rounding cases did occur


@pytest.mark.parametrize("name", ["float32", "float16", "bfloat16", "float8_e4m3fn", "float64"])
def test_fast_ulp_is_format_ulp(name):
    fmt = FORMATS[name]
    f = np.random.default_rng(2).standard_normal(5000) * np.exp2(np.random.default_rng(3).integers(-160, 160, 5000))
    f = np.concatenate([f, [2.0 ** -1074, 1.0, 2.0 ** -126, 3.0e-39, -5e-324]])
    assert np.array_equal(V.fast_ulp(f, fmt), fmt.ulp(f))
    # at 0: the subnormal spacing (Format.ulp's frexp gives 2^-p there)
    assert V.fast_ulp(np.array([0.0, -0.0]), fmt).tolist() == [2.0 ** (fmt.emin - fmt.precision + 1)] * 2


@pytest.mark.parametrize("fmt", ["float64", "real"])
def test_exhaustive_refused_for_wide_formats_sampled_instead(fmt):
    with pytest.raises(ValueError, match="exhaustive"):
        V.ulp_check(POLY, "exp", 0.0, 1.0, fmt)
    # (from 0.5: double-double loses bits where x*x is subnormal)
    res = V.ulp_check("v0 = mul(x, x)\nreturn v0", "x**2", 0.5, 1.0, fmt, exhaustive=False, samples=500)
    assert not res.exhaustive and res.reference == "mpmath" and res.ulp_format == "float64"
    assert res.max_ulp <= (0.5 if fmt == "float64" else 0.0) and 400 <= res.points <= 500
    res = V.ulp_check(POLY, "exp", 0.0, 1.0, fmt, exhaustive=False, samples=500)
    taylor = math.e - (1 + 1 + 0.5 + 1 / 6)  # the truncation error at x = 1
    assert res.max_abs == pytest.approx(taylor, rel=1e-6) and res.x_max_abs == 1.0


def test_result_is_frozen_and_asdict_is_its_json():
    res = V.ulp_check(IDENTITY, "x", 0.0, 1.0, "bfloat16", ref_check=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.max_ulp = 1.0
    d = json.loads(json.dumps(res.asdict()))
    assert d["max_ulp"] == res.max_ulp == 0.0 and d["points"] == res.points and d["program_ops"] == 0
    assert d["reference_check"] == res.reference_check.asdict() and d["reference_check"]["points"] > 0
    d = V.sampled_check(IDENTITY, "x", 0.0, 1.0, "real", samples=100).asdict()
    assert "reference_check" not in d and "program_ops" not in d and d["ulp_format"] == "float64"
    assert [n for n in FORMATS if V.exhaustive_possible(n)] == [
        "float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2",
        "float16@float32", "bfloat16@float32", "float8_e4m3fn@float32", "float8_e5m2@float32"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_special_values_overflow_and_undefined_points():
    # exp in float16 overflows past x = 11.09: the correct rounding is inf there
    res = V.ulp_check_function(lambda x: np.exp(x.astype(np.float32)).astype(np.float16),
                               "exp", 10.0, 12.0, "float16", ref_check=0)
    assert res.max_ulp <= 0.5 and res.nonfinite == 0
    # log: negative x undefined (skipped), log(0) = -inf matched exactly
    res = V.ulp_check_function(lambda x: np.log(x.astype(np.float32)).astype(ml_dtypes.bfloat16),
                               "log", -1.0, 1.0, "bfloat16", ref_check=0)
    assert res.undefined == values.count_values("bfloat16", -1.0, 0.0) - 1
    assert res.max_ulp <= 0.5 and res.nonfinite == 0
    # a program missing the target badly or returning NaN scores inf
    res = V.ulp_check_function(lambda x: np.full(x.shape, np.nan), "exp", 0.0, 1.0, "bfloat16", ref_check=0)
    assert res.max_ulp == math.inf and res.nonfinite == res.points


# a point inside each function's domain, away from zeros of the result
_POINTS = {"asin": [0.3, -0.7], "acos": [0.3, -0.7], "atanh": [0.3, -0.7], "log1p": [0.3, 5.0],
           "lgamma": [0.3, 5.5], "gamma": [0.3, -1.5, 5.5], "log": [0.3, 5.0], "log2": [0.3, 5.0],
           "log10": [0.3, 5.0], "sqrt": [0.3, 5.0], "rsqrt": [0.3, 5.0], "cbrt": [0.3, 5.0]}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_numpy_walk_matches_mpmath(name):
    assert name in numpy_functions()
    x = np.array(_POINTS.get(name, [0.3, -0.7, 2.5]))
    got = Target(name).numpy(x)
    hi, lo = reference(Target(name), x, cache=False)
    assert np.all(np.abs(got - hi - lo) <= 8 * np.finfo(float).eps * np.abs(hi)), (got, hi)


def test_numpy_walk_expressions_and_domain_edges():
    t = Target("x**2 + sin(pi*x)/e - 2**-x")
    x = np.array([0.25, 1.5, 3.0])
    hi, lo = reference(t, x, cache=False)
    assert np.allclose(t.numpy(x), hi, rtol=1e-14, atol=1e-15)
    for text, xv in [("cbrt", -8.0), ("lgamma", -1.5), ("lgamma", 0.0), ("gamma", -2.0), ("rsqrt", 0.0),
                     ("1/x", 0.0), ("x**-1", 0.0), ("log", -1.0), ("sqrt", -1.0), ("asin", 2.0)]:
        assert np.isnan(Target(text).numpy(np.array([xv]))[0]), text
        assert np.isnan(reference(Target(text), np.array([xv]), cache=False)[0][0]), text
    assert Target("log").numpy(np.array([0.0]))[0] == -np.inf
    assert Target("2").numpy(np.array([1.0, 2.0])) == 2.0


@pytest.mark.parametrize("name", ["exp", "exp2", "log", "erf", "erfc", "tanh", "sigmoid", "expm1", "sin"])
def test_float64_reference_within_a_hundredth_float32_ulp(name):
    lo, hi = (0.01, 10.0) if name == "log" else (-4.0, 4.0)
    x = values.random_values(FORMATS["float32"], lo, hi, 3000, np.random.default_rng(4))
    f64 = Target(name).numpy(x)
    rh, rl = reference(Target(name), x, cache=False)
    diff = np.abs((f64 - rh) - rl) / FORMATS["float32"].ulp(rh)
    assert diff.max() < 0.01


def test_timing_reports_positive_medians_and_ratio():
    pytest.importorskip("jax")
    from numsearch.search.timing import jax_functions, time_program
    assert set(FUNCTIONS) <= set(jax_functions())
    r = time_program(POLY, "float32", "exp", n=4096, repeats=3, warmup=1, min_sample_s=0.001)
    assert r["program_s"] > 0 and r["reference_s"] > 0 and r["ratio"] > 0
    assert r["dtype"] == "float32" and r["n"] == 4096 and r["reference"].endswith("exp")
    assert r["max_abs_diff"] < 0.1  # both compute exp on [0, 1]
    r = time_program(POLY.text(), "real", "exp(x)", n=1024, repeats=2, warmup=1, min_sample_s=0.001)
    assert r["dtype"] == "float64" and r["ratio"] > 0


def test_exhaustive_check_split_over_processes_gives_the_serial_figures(monkeypatch):
    """ulp_check(processes=N) checks runs of consecutive float32 values in fresh processes
    and merges them: the same points, worst point and figures as one process, across zero
    and within a binade."""
    import numsearch.evaluators.verify as V
    monkeypatch.setattr(V, "PARALLEL_MIN", 0)
    prog = "c0 = 1.4\nc1 = 0.6\nv0 = fma(x, c0, c1)\nreturn v0"
    for lo, hi, target in ((1.0, 1.0 + 2.0 ** -9, "exp2(x)"), (-(2.0 ** -147), 2.0 ** -147, "sin(x)")):
        one = V.ulp_check(prog if target == "exp2(x)" else "c0 = 1.0\nv0 = mul(x, c0)\nreturn v0", target,
                          lo, hi, "float32", ref_check=0)
        split = V.ulp_check(prog if target == "exp2(x)" else "c0 = 1.0\nv0 = mul(x, c0)\nreturn v0", target,
                            lo, hi, "float32", ref_check=0, processes=3)
        assert (split.points, split.undefined, split.nonfinite) == (one.points, one.undefined, one.nonfinite)
        assert (split.max_ulp, split.x_max_ulp, split.max_abs, split.max_rel) == \
               (one.max_ulp, one.x_max_ulp, one.max_abs, one.max_rel)
        assert split.mean_ulp == pytest.approx(one.mean_ulp, rel=1e-12, abs=1e-300)
    assert one.points == 9 and split.program_ops == 1
