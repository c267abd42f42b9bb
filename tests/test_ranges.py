"""Interval analysis for the fast export (exporters/_ranges.py) and the forms it picks."""
import math
import re

import numpy as np
import pytest

from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.program import parse_program
from numsearch.search.exporters import export
from numsearch.search.exporters._ranges import exponent_add_ok, value_ranges
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
    fast = lambda p: export(p, "float32", "jax", "")
    src = fast(TEMPLATES["exp_pow2"].build(F32, 4))
    assert "pow2_bits_(jnp.maximum(v3, np.float32(-127)))" in src and "jnp.minimum(v3" not in src
    src = fast(parse_program("v0 = pow2(x)\nreturn v0"))
    assert "pow2_bits_(jnp.minimum(jnp.maximum(jnp.trunc(x), np.float32(-127)), np.float32(128)))" in src
    assert "ldexp_sat_(" in fast(TEMPLATES["exp"].build(F32, 4))
    bounded_k = "c0 = 0x1p+7\nc1 = -0x1p+7\nv0 = rint(x)\nv1 = min(v0, c0)\nv2 = max(v1, c1)\nv3 = ldexp(x, v2)\nreturn v3"
    assert "ldexp_bits_(" in fast(parse_program(bounded_k))    # a (x itself) not proved normal
    assert "fast_ldexp_(" in fast(parse_program("v0 = ldexp(x, x)\nreturn v0"))


def _load(src, tmp_path, name):
    import importlib.util
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"fast_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _unclamped(prog):
    """The program without its two clamps (x in their place)."""
    text = prog.text().replace("v0 = min(x, c0)\nv1 = max(v0, c1)\n", "").replace("v1,", "x,").replace("v1)", "x)")
    return parse_program(re.sub(r"\bv(\d+)\b", lambda m: f"v{int(m.group(1)) - 2}", text))


def test_exponent_add_is_proved_case_by_case():
    """ldexp may add k to the exponent field only where every argument and result is
    normal: proved for the exp kernel clamped to the domain's ends (the ends are tight: k
    reaches 128 at the top, where r < 0), refused for clamps that let it overflow, and
    for the unclamped kernel on every input, but proved for it on the domain alone."""
    fast = TEMPLATES["exp_fast"].build(F32, 6)
    last = len(fast.instrs) - 1
    assert exponent_add_ok(fast, last, "float32")
    assert not exponent_add_ok(TEMPLATES["exp"].build(F32, 6), last, "float32")
    bare = _unclamped(fast)
    assert not exponent_add_ok(bare, last - 2, "float32")
    assert exponent_add_ok(bare, last - 2, "float32", (fast.consts[1], fast.consts[0]))
    wider = float(np.nextafter(np.float32(fast.consts[0]), np.float32(np.inf)))
    assert not exponent_add_ok(bare, last - 2, "float32", (fast.consts[1], wider))   # exp(wider) overflows


def test_rint_by_shift_survives_xla(tmp_path):
    """(a + 1.5 * 2^23) - 1.5 * 2^23 rounds a to an integer: the constants pass XLA behind a
    barrier, so it is computed, not folded to a (the export writes rint that way where an ldexp
    takes k from the bits of t)."""
    prog = parse_program("c0 = 0x1.8p+23\nv0 = add(x, c0)\nv1 = sub(v0, c0)\nv2 = max(x, c0)\nv3 = rint(x)\n"
                         "v4 = min(v3, c0)\nv5 = add(v1, v4)\nreturn v5")
    mod = _load(export(prog, "float32", "jax", ""), tmp_path, "shift")
    x = np.float32([0.3, 1.5, 2.5, -2.5, 1e6 + 0.5, -7.7])
    assert np.array_equal(np.asarray(mod.approx(x)), evaluate(prog, x.astype(np.float64), "float32").astype(np.float32))
    assert np.array_equal(np.asarray(mod.approx(x)), 2 * np.rint(x))


def test_fast_exp_kernel_scales_by_integer_add(tmp_path):
    """The exp_fast template's export adds k to the exponent field (t's bits: no conversion)
    and is within 1 ulp of the interpreter on the domain; beyond it, both return the value at
    the nearest end; NaN gives NaN."""
    prog = TEMPLATES["exp_fast"].build(F32, 6)
    src = export(prog, "float32", "jax", "")
    assert "ldexp_add_(v11, lax.bitcast_convert_type(t3, _I_))" in src and "t3 = v2 + RS_" in src
    mod = _load(src, tmp_path, "exp_fast")
    x = F32.round(np.concatenate([np.linspace(prog.consts[1], prog.consts[0], 20001), [prog.consts[0], 88.7229, 100,
                                  np.inf, prog.consts[1], -90, -1e30, -np.inf]])).astype(np.float32)
    got = np.asarray(mod.approx(x)).astype(np.float64)
    want = evaluate(prog, x.astype(np.float64), "float32")
    assert np.all(np.abs(got - want) <= F32.ulp(want)) and np.all(np.isfinite(got))
    assert np.isnan(np.asarray(mod.approx(np.float32([np.nan])))[0])


def test_precondition_lets_the_unclamped_kernel_scale_by_integer_add(tmp_path):
    """With inputs=(lo, hi) (a run's speed.inputs: domain) the fast export of the unclamped
    kernel adds k to the exponent field and says so in its header; it is right on the
    interval; without the precondition it keeps the clipped two-factor form, right everywhere."""
    prog = TEMPLATES["exp_fast"].build(F32, 6)
    bare = _unclamped(prog)
    lo, hi = prog.consts[1], prog.consts[0]
    pre = export(bare, "float32", "jax", "", inputs=(lo, hi))
    assert "ldexp_add_(" in pre and "Precondition: x in [" in pre
    every = export(bare, "float32", "jax", "")
    assert "fast_ldexp_(" in every and "ldexp_add_(" not in every and "Precondition" not in every
    x = F32.round(np.linspace(lo, hi, 20001)).astype(np.float32)
    want = evaluate(bare, x.astype(np.float64), "float32")
    for src in (pre, every):
        got = np.asarray(_load(src, tmp_path, "pre" if src is pre else "every").approx(x)).astype(np.float64)
        assert np.all(np.abs(got - want) <= F32.ulp(want))
    beyond = np.float32([100.0, -100.0])
    assert np.all(np.asarray(_load(every, tmp_path, "every2").approx(beyond)) == np.float32([np.inf, 0.0]))


@pytest.mark.parametrize("name", ["exp", "exp_pow2"])
def test_fast_export_of_the_exp_templates_matches_the_interpreter(name, tmp_path):
    """Within 1 ulp of the interpreter across the domain, and the same saturation beyond it:
    inf above the overflow threshold (and at +inf), 0 far below (and at -inf); below the
    domain the interpreter's subnormals come out as 0 (XLA:CPU flushes them)."""
    prog = TEMPLATES[name].build(F32, 6)
    mod = _load(export(prog, "float32", "jax", ""), tmp_path, name)
    x = np.concatenate([np.linspace(-87.33, 88.72, 20001), [88.7228, 88.72283, 88.7229, 89, 100, 1e30, np.inf,
                                                            -87.3365, -87.4, -87.5, -87.9, -90, -104, -200, -1e30, -np.inf, 0.0, -0.0]])
    x = F32.round(x).astype(np.float32)
    got = np.asarray(mod.approx(x)).astype(np.float64)
    want = evaluate(prog, x.astype(np.float64), "float32")
    normal = np.abs(want) >= 2.0 ** -126
    assert np.all(np.abs(got - want)[normal & np.isfinite(want)] <= F32.ulp(want[normal & np.isfinite(want)]))
    assert np.array_equal(np.isinf(got), np.isinf(want)) and np.all(got[~normal & np.isfinite(want)] == 0)
    assert got[x == np.inf][0] == np.inf and got[x == -np.inf][0] == 0 and got[x == 100][0] == np.inf


def test_select_range_is_refined_by_the_sign_of_s():
    """select(s, a, b): a's range where s's is below 0, b's where it is at least 0 (s = -0
    gives b), else the union; integer-valued where what it may take is."""
    prog = parse_program("c0 = 0x1p+1\nc1 = 0x1.8p+1\nv0 = sub(x, c0)\nv1 = rint(x)\nv2 = mul(x, c1)\n"
                         "v3 = select(v0, v1, v2)\nreturn v3")
    below, above, across = (value_ranges(prog, box)["v3"] for box in ((-4.0, 1.5), (2.0, 5.0), (0.0, 5.0)))
    assert below == (-4.0, 2.0, True)                                      # rint(x) only
    assert 6.0 * (1 - 2 ** -19) <= above[0] <= 6.0 and 15.0 <= above[1] <= 15.0 * (1 + 2 ** -19) and not above[2]
    assert across[0] == 0.0 and 15.0 <= across[1] <= 15.0 * (1 + 2 ** -19) and not across[2]
    # s = -|x| is -0 at x = 0, which gives b: not refined to a
    zero = parse_program("c0 = 0x1p+3\nv0 = abs(x)\nv1 = neg(v0)\nv2 = select(v1, x, c0)\nreturn v2")
    lo, hi, _ = value_ranges(zero, (-1.0, 1.0))["v2"]
    assert (lo, hi) == (-1.0, 8.0)
    assert value_ranges(zero, (-1.0, 1.0))["v1"][1] == 0.0


def test_select_keeps_integer_proofs_of_the_fast_export():
    """pow2 of a select of integer-valued values needs no trunc in the fast form; with a
    non-integer choice it does; a refined range drops the clamp."""
    text = ("c0 = 0x1p+6\nc1 = -0x1p+6\nc2 = {c}\nv0 = rint(x)\nv1 = min(v0, c0)\nv2 = max(v1, c1)\n"
            "v3 = select(x, v2, c2)\nv4 = pow2(v3)\nreturn v4")
    fast = lambda t, inputs=None: export(parse_program(t), "float32", "jax", "", inputs=inputs)
    assert "pow2_bits_(v3)" in fast(text.format(c="0x1.8p+1"))
    assert "jnp.trunc(v3)" in fast(text.format(c="0x1p-1"))
    big = text.replace("c2 = {c}", "c2 = 0x1p+9").format()
    assert "jnp.minimum(v3, np.float32(128))" in fast(big)
    assert "pow2_bits_(v3)" in fast(big, inputs=(-10.0, -1.0))       # x < 0: v3 is v2 only, within [-64, 64]


def test_pow2_of_a_bounded_rint_is_one_shift_with_the_bias():
    """pow2(rint(a)), k proved within [emin - 1, emax + 1]: the rint adds 1.5 * 2^23 + 127 and
    pow2 is t's bits shifted (no bias add); the values are the interpreter's away from ties,
    and a tie gives one of its two neighbours, consistently in k and 2^k."""
    pytest.importorskip("jax")      # the exported module runs under JAX
    text = ("c0 = 0x1.fcp+6\nc1 = -0x1.f8p+6\nv0 = min(x, c0)\nv1 = max(v0, c1)\nv2 = rint(v1)\nv3 = pow2(v2)\n"
            "v4 = mul(v3, v2)\nreturn v4")
    prog = parse_program(text)
    src = export(prog, "float32", "jax", "")
    assert "t2 = v1 + RSB_" in src and "pow2_shift_(t2)" in src and "pow2_bits_(" not in src
    ns: dict = {}
    exec(compile(src, "fast", "exec"), ns)
    x = np.concatenate([np.linspace(-140, 140, 5601), [-126.3, 127.2, 0.3, -0.3]]).astype(np.float32)
    v1 = np.clip(x, -126, 127)
    ties = v1 == np.floor(v1) + 0.5
    got = np.asarray(ns["approx"](x), np.float32)
    want = evaluate(prog, x.astype(np.float64), "float32").astype(np.float32)
    assert np.array_equal(got[~ties], want[~ties]) and ties.sum() > 100
    with np.errstate(over="ignore"):
        near = [(np.exp2(k) * k).astype(np.float32) for k in (np.floor(v1[ties]), np.ceil(v1[ties]))]
    assert np.all((got[ties] == near[0]) | (got[ties] == near[1]))
    assert "pow2_bits_(" in export(parse_program(text.replace("0x1.fcp+6", "0x1p+8")), "float32", "jax", "")


def test_pow2_of_a_rint_plus_an_integer_shifts_with_the_bias_plus_it():
    """pow2(k + c), k a rint and c an integer constant, the add used only by pow2: the rint's
    shift constant carries bias + c, pow2 is t's bits shifted and the add is not computed; k
    itself is unchanged (the values equal the interpreter's away from ties).  An add used
    elsewhere, or a non-integer c, keeps the add."""
    pytest.importorskip("jax")
    text = ("c0 = 0x1.fcp+5\nc1 = -0x1.f8p+5\nc2 = {c}\nv0 = min(x, c0)\nv1 = max(v0, c1)\nv2 = rint(v1)\n"
            "v3 = add(v2, c2)\nv4 = pow2(v3)\nv5 = mul(v4, v2)\nreturn v5")
    prog = parse_program(text.format(c="-0x1.8p+1"))     # c = -3
    src = export(prog, "float32", "jax", "")
    assert "t2 = v1 + RSBm3_" in src and "v2 = t2 - RSBm3_" in src and "pow2_shift_(t2)" in src
    assert "v3 =" not in src and "RSBm3_ = np.float32(1.5 * 2.0 ** 23 + 124)" in src
    ns: dict = {}
    exec(compile(src, "fast", "exec"), ns)
    x = np.linspace(-70, 70, 2801).astype(np.float32)
    v1 = np.clip(x, -63, 63.5)
    ties = v1 == np.floor(v1) + 0.5
    got = np.asarray(ns["approx"](x), np.float32)
    want = evaluate(prog, x.astype(np.float64), "float32").astype(np.float32)
    assert np.array_equal(got[~ties], want[~ties]) and np.any(want != 0)
    assert "v3 = (v2 + C2)" in export(parse_program(text.format(c="0x1p-1")), "float32", "jax", "")
    used = parse_program(text.format(c="0x1p+0").replace("v5 = mul(v4, v2)", "v5 = mul(v4, v3)"))
    assert "v3 = (v2 + C2)" in export(used, "float32", "jax", "")


def test_select_of_a_difference_compares_and_copysign_works_on_the_bits():
    """select(a - b, ...) with the sub used nowhere else is a compare, equal to the
    interpreter at a = b and on both sides; copysign on the bits is IEEE copysign (the
    sign of -0 and of -inf carried, NaN a stays NaN)."""
    text = "c0 = 0x1.8p-1\nv0 = sub(x, c0)\nv1 = mul(x, x)\nv2 = select(v0, v1, x)\nv3 = copysign(v2, x)\nreturn v3"
    prog = parse_program(text)
    src = export(prog, "float32", "jax", "")
    assert "jnp.where(x < C0, v1, x)" in src and "v0 =" not in src and "copysign_bits_(v2, x)" in src
    ns: dict = {}
    exec(compile(src, "fast", "exec"), ns)
    x = np.concatenate([np.linspace(-2, 2, 4001), np.nextafter(np.float32(0.75), [0, 2]), [0.75, -0.0, np.inf, -np.inf]]
                       ).astype(np.float32)
    got = np.asarray(ns["approx"](x), np.float32)
    want = evaluate(prog, x.astype(np.float64), "float32").astype(np.float32)
    assert np.array_equal(got.view(np.int32), want.view(np.int32))
    used = "c0 = 0x1.8p-1\nv0 = sub(x, c0)\nv1 = select(v0, x, v0)\nreturn v1"   # the sub is a value too: computed
    assert "v0 = (x - C0)" in export(parse_program(used), "float32", "jax", "")
    two = "c0 = 0x1.8p-1\nv0 = sub(x, c0)\nv1 = select(v0, x, c0)\nv2 = select(v0, c0, v1)\nreturn v2"   # two signs
    src = export(parse_program(two), "float32", "jax", "")
    assert "v0 =" not in src and src.count("jnp.where(x < C0") == 2
    import jax.numpy as jnp
    from jax import lax
    from numsearch.search.exporters.jax_fast import _HELPERS
    ns = {"jnp": jnp, "lax": lax, "_I_": jnp.int32}
    exec(compile(_HELPERS["copysign_bits_"], "copysign_bits_", "exec"), ns)
    a = np.array([1.5, -0.0, 0.0, np.inf, -np.inf, np.nan, 2.0], np.float32)
    b = np.array([-0.0, -1.0, 1.0, -2.0, 3.0, -1.0, -np.inf], np.float32)
    got = np.asarray(ns["copysign_bits_"](jnp.asarray(a), jnp.asarray(b)))
    num = ~np.isnan(a)
    assert np.array_equal(got.view(np.int32)[num], np.copysign(a, b).view(np.int32)[num]) and np.isnan(got[~num]).all()
