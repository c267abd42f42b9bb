"""Mixed formats: instructions rounded to a compute format, the result once to the output format."""
import numpy as np
import pytest

from numsearch.evaluators.verify import ulp_check
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.native import program_function
from numsearch.primitives.program import parse_program
from numsearch.search.spec import SpecError, parse_spec

# PROG: x * (1 + 3u/8) + (3u/8) x for u the output format's ulp at 1: rounded per op in the
# narrow format each step falls back to x; in float32 the two 3u/8 add up before the last rounding
PROG = parse_program("c0 = 0x1p+0\nc1 = 0x1p-12\nv0 = mul(x, c0)\nv1 = fma(c1, x, v0)\nreturn v1")


def prog_for(fmt):
    d = 0.375 * 2.0 ** (1 - fmt.precision)
    return PROG.with_consts((1 + d, d))


MIXED = [n for n in FORMATS if FORMATS[n].compute]


def test_mixed_formats_are_registered_with_their_compute_format():
    assert set(MIXED) == {"float16@float32", "bfloat16@float32", "float8_e4m3fn@float32", "float8_e5m2@float32"}
    m = FORMATS["bfloat16@float32"]
    assert m.op_format is FORMATS["float32"] and m.precision == 8 and m.storage_dtype == FORMATS["bfloat16"].storage_dtype
    assert FORMATS["bfloat16"].op_format is FORMATS["bfloat16"]


@pytest.mark.parametrize("name", MIXED)
def test_mixed_is_compute_then_one_rounding(name):
    out, comp = FORMATS[name], FORMATS[name].op_format
    u = 2.0 ** (1 - out.precision)
    m = 1 + u * np.arange(int(0.25 / u) + 1)           # significands in [1, 1.25]: 3u/8 * m < u/2
    x = np.ldexp(m[None, :], np.arange(-2, 4)[:, None]).ravel()
    prog = prog_for(out)
    y = evaluate(prog, x, name)
    assert np.array_equal(y, out.round(evaluate(prog, x, comp)))
    narrow = evaluate(prog, x, name.split("@")[0])
    assert np.array_equal(narrow, x) and (y > x).all()   # per-op rounding loses both terms, mixed keeps them
    native = program_function(prog, name)(x.astype(out.storage_dtype))
    assert np.array_equal(np.asarray(native, dtype=np.float64), y)


def test_constants_are_values_of_the_compute_format():
    prog = parse_program("c0 = 0x1.00cp+0\nv0 = mul(x, c0)\nv1 = sub(v0, x)\nreturn v1")   # c0 = 1 + 3 * 2^-10
    x = np.array([1.0])
    assert evaluate(prog, x, "bfloat16@float32")[0] == 3 * 2.0 ** -10   # c0 kept as a float32 value
    assert evaluate(prog, x, "bfloat16")[0] == 0.0                      # c0 rounds to 1 in bfloat16
    res = ulp_check(prog_for(FORMATS["bfloat16"]), "x", 1.0, 4.0, "bfloat16@float32")
    assert res.points == 2 * 128 + 1 and res.max_ulp > 0


def test_spec_compute_key():
    base = "target: {function: exp, interval: [0, 1], format: bfloat16, metric: ulp%s}\n"
    assert parse_spec(base % ", compute: float32").task.format == "bfloat16@float32"
    assert parse_spec(base % ", compute: bfloat16").task.format == "bfloat16"
    with pytest.raises(SpecError, match="target.compute: bfloat16 results can be computed in float32, not 'float64'"):
        parse_spec(base % ", compute: float64")
