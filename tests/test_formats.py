import ml_dtypes
import numpy as np
import pytest

from numsearch.primitives.formats import FORMATS


def test_float32_float16_match_numpy_casts():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(100000) * np.exp2(rng.integers(-30, 30, 100000))
    for name, dt in [("float32", np.float32), ("float16", np.float16)]:
        with np.errstate(over="ignore"):
            ref = x.astype(dt).astype(np.float64)
        from numsearch.primitives.formats import _round_generic
        f = FORMATS[name]
        got = _round_generic(x, f.precision, f.emin, f.max_finite, f.has_inf)
        assert np.array_equal(got, ref), name


@pytest.mark.parametrize("name", ["bfloat16", "float8_e4m3fn", "float8_e5m2", "float16"])
def test_narrow_rounding_matches_ml_dtypes_from_float32(name):
    # ml_dtypes rounds float32 -> narrow format correctly (one rounding)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(50000) * np.exp2(rng.integers(-20, 12, 50000))).astype(np.float32)
    dt = np.float16 if name == "float16" else getattr(ml_dtypes, name)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = x.astype(dt).astype(np.float64)
    got = FORMATS[name].round(x.astype(np.float64))
    assert np.array_equal(got, ref, equal_nan=True)


def test_one_rounding_not_two():
    # 1 + 2^-8 + 2^-30 is above the bfloat16 midpoint: must round up (via float32 it would not)
    assert FORMATS["bfloat16"].round(np.array([1 + 2**-8 + 2**-30]))[0] == 1 + 2**-7


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "real"])
def test_rounding_idempotent_and_ulp(name):
    f = FORMATS[name]
    rng = np.random.default_rng(2)
    x = rng.uniform(-4, 4, 10000)
    r = f.round(x)
    assert np.array_equal(f.round(r), r)
    assert np.all(np.abs(r - x) <= f.ulp(x) / 2 * (1 + 1e-12))
    assert f.ulp(np.array([1.0]))[0] == 2.0 ** (1 - f.precision)


def test_overflow():
    assert np.isinf(FORMATS["float16"].round(np.array([70000.0]))[0])
    assert np.isnan(FORMATS["float8_e4m3fn"].round(np.array([1000.0]))[0])
    assert FORMATS["float8_e4m3fn"].round(np.array([448.0]))[0] == 448.0


def test_ulp_at_zero_is_subnormal_spacing():
    f = FORMATS["float32"]
    assert f.ulp(np.array([0.0]))[0] == 2.0 ** -149
    assert f.ulp(np.array([2.0 ** -130]))[0] == 2.0 ** -149


def test_hardware_format_is_float64_for_real_only():
    # real programs are stored, hashed, exported and ULP-counted as float64
    assert FORMATS["real"].hardware is FORMATS["float64"]
    assert all(FORMATS[n].hardware is FORMATS[n] for n in FORMATS if n != "real")


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "real"])
def test_storage_dtype_holds_every_value(name):
    f = FORMATS[name]
    rng = np.random.default_rng(3)
    x = f.round(rng.standard_normal(20000) * np.exp2(rng.integers(-20, 12, 20000)))
    with np.errstate(over="ignore", invalid="ignore"):
        back = x.astype(f.storage_dtype).astype(np.float64)
    assert f.storage_dtype.itemsize * 8 == {"float64": 64, "float32": 32, "float16": 16, "bfloat16": 16}.get(name.split("@")[0], 8)
    assert np.array_equal(back, x, equal_nan=True)
