"""Interval analysis for the fast export (exporters/_ranges.py) and the forms it picks."""
import math

import numpy as np
import pytest

from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.program import parse_program
from numsearch.search.exporters import export
from numsearch.search.exporters._ranges import value_ranges
from numsearch.search.templates import TEMPLATES

F32 = FORMATS["float32"]


def test_ranges_follow_clamps_and_rint():
    prog = TEMPLATES["exp_pow2"].build(F32, 4)
    r = value_ranges(prog)
    assert r["x"][:2] == (-math.inf, math.inf)
    lo, hi, integer = r["v1"]                       # x clamped
    assert (lo, hi) == (prog.consts[1], prog.consts[0]) and not integer
    klo, khi, kint = r["v3"]                        # k = rint(...)
    assert kint and -152 <= klo <= -151 and khi == 128   # bounds pushed out a little (rounding)
    assert value_ranges(parse_program("v0 = rint(x)\nreturn v0"))["v0"] == (-math.inf, math.inf, True)


def test_fast_forms_drop_only_what_is_proved():
    fast = lambda p: export(p, "float32", "jax_fast", "")
    src = fast(TEMPLATES["exp_pow2"].build(F32, 4))
    assert "pow2_bits_(jnp.maximum(v3, np.float32(-127)))" in src and "jnp.minimum(v3" not in src
    src = fast(parse_program("v0 = pow2(x)\nreturn v0"))
    assert "pow2_bits_(jnp.minimum(jnp.maximum(jnp.trunc(x), np.float32(-127)), np.float32(128)))" in src
    assert "ldexp_bits_(" in fast(TEMPLATES["exp"].build(F32, 4))
    assert "fast_ldexp_(" in fast(parse_program("v0 = ldexp(x, x)\nreturn v0"))


@pytest.mark.parametrize("name", ["exp", "exp_pow2"])
def test_fast_export_of_the_exp_templates_matches_the_interpreter(name, tmp_path):
    """Within 1 ulp of the interpreter across the domain, and the same saturation beyond it:
    inf above the overflow threshold (and at +inf), 0 far below (and at -inf); below the
    domain the interpreter's subnormals come out as 0 (XLA:CPU flushes them)."""
    import importlib.util
    prog = TEMPLATES[name].build(F32, 6)
    path = tmp_path / f"{name}.py"
    path.write_text(export(prog, "float32", "jax_fast", ""))
    spec = importlib.util.spec_from_file_location(f"fast_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    x = np.concatenate([np.linspace(-87.33, 88.72, 20001), [88.7228, 88.72283, 88.7229, 89, 100, 1e30, np.inf,
                                                            -87.3365, -90, -104, -200, -1e30, -np.inf, 0.0, -0.0]])
    x = F32.round(x).astype(np.float32)
    got = np.asarray(mod.approx(x)).astype(np.float64)
    want = evaluate(prog, x.astype(np.float64), "float32")
    normal = np.abs(want) >= 2.0 ** -126
    assert np.all(np.abs(got - want)[normal & np.isfinite(want)] <= F32.ulp(want[normal & np.isfinite(want)]))
    assert np.array_equal(np.isinf(got), np.isinf(want)) and np.all(got[~normal & np.isfinite(want)] == 0)
    assert got[x == np.inf][0] == np.inf and got[x == -np.inf][0] == 0 and got[x == 100][0] == np.inf
