"""The fast JAX export (``jax``, formerly ``jax_fast``): every op renders through the registry,
the file states its guarantee, the exhaustive check of its compiled function
catches a planted error the interpreter's check does not have, it agrees
with the interpreter's figure on a float32 polynomial, and the compute-bound
timing returns well-formed figures (no assertion on speed)."""
import numpy as np
import pytest

from numsearch.evaluators.verify import ulp_check
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.ops import OPS
from numsearch.primitives.program import Instr, Program, parse_program
from numsearch.search.api import Front, UserError
from numsearch.search.exported import check_exported, load_exported, load_source
from numsearch.search.exporters import EXPORTERS, export
from numsearch.search.exporters.jax_fast import GUARANTEE

jax = pytest.importorskip("jax")


def _horner(coefs, shift=None):
    """fma Horner of the coefficients (highest degree first) in x, or in x - shift."""
    consts = [float(np.float32(c)) for c in coefs] + ([shift] if shift is not None else [])
    t = "x" if shift is None else "v0"
    instrs = [] if shift is None else [Instr("sub", ("x", f"c{len(coefs)}"))]
    acc = "c0"
    for i in range(1, len(coefs)):
        instrs.append(Instr("fma", (acc, t, f"c{i}")))
        acc = f"v{len(instrs) - 1}"
    return Program(tuple(consts), tuple(instrs), acc)


def _exp2_poly():
    """Degree-6 fit of 2^x on [0, 1] (Chebyshev nodes), float32 coefficients, fma Horner."""
    t = 0.5 + 0.5 * np.cos(np.pi * (np.arange(40) + 0.5) / 40)
    return _horner(np.polyfit(t, np.exp2(t), 6))


# 2^x near 1/2: sqrt(2) * e^(ln2 t), t = x - 1/2 (exact), a Taylor cubic: under 1 ulp on [0.5, 0.5 + 2^-7]
LO, HI = 0.5, 0.5 + 2.0 ** -7
SMALL = _horner([np.sqrt(2) * np.log(2) ** k / np.prod(range(1, k + 1)) for k in (3, 2, 1, 0)], 0.5)


@pytest.mark.parametrize("op", OPS.names())
def test_every_op_renders_and_runs_near_the_interpreter(op):
    """One instruction of each op (arguments x and a constant): the fast code
    computes it within an ulp of the interpreter (XLA's a / c is a * (1/c))."""
    p = Program((1.375, -0.8125, 3.0), (Instr(op, ("x", "c0", "c1")[: OPS[op].arity]),), "v0")
    mod = load_exported(p, "float32", to="jax")
    x = np.linspace(-4, 4, 1001).astype(np.float32)
    got = np.asarray(mod.approx(x), np.float64)
    want = evaluate(p, x.astype(np.float64), "float32")
    ok = np.isfinite(want)
    assert np.all(np.abs(got - want)[ok] <= FORMATS["float32"].ulp(want[ok])), op


def test_registry_and_header_state_the_guarantee():
    assert EXPORTERS["jax"].exact is False and all(EXPORTERS[n].exact for n in ("jax_exact", "numpy", "c"))
    assert export(_exp2_poly(), "float32", "jax_fast") == export(_exp2_poly(), "float32", "jax")   # its former name
    src = export(_exp2_poly(), "float32", "jax", "hello")
    flat = " ".join(src.split())
    assert src.startswith("# hello") and GUARANTEE[1:] in flat and "Not measured at export" in src
    assert "np.float32(float.fromhex(" in src and "a * b + c" in src and "_keep" not in src
    src = export(_exp2_poly(), "float32", "jax", measured="max 0.6 ulp")
    assert "Measured at export (the figure of record): max 0.6 ulp" in src
    bf = export(_exp2_poly(), "bfloat16", "jax")
    assert "DTYPE = jnp.bfloat16" in bf and "rounded\nonce, at the end, to bfloat16" in bf
    y = load_source(bf).approx(np.linspace(0, 1, 7).astype(FORMATS["bfloat16"].storage_dtype))
    assert y.dtype == FORMATS["bfloat16"].storage_dtype and np.allclose(np.asarray(y, np.float64),
                                                                        np.exp2(np.linspace(0, 1, 7)), rtol=1e-2)


def test_op_with_an_unknown_helper_is_refused(monkeypatch):
    from dataclasses import replace
    monkeypatch.setitem(OPS._items, "fma", replace(OPS["fma"], forms=(("jax", "strange_({0}, {1}, {2})"),)))
    with pytest.raises(ValueError, match="jax"):
        export(_exp2_poly(), "float32", "jax")


def test_check_catches_a_planted_two_ulp_error():
    """Perturb one constant of the generated source by 3 ulps: the exhaustive
    check of the compiled function sees >= 2 ulp, the program's own check < 1."""
    interp = ulp_check(SMALL, "exp2", LO, HI, "float32", ref_check=0)
    assert interp.max_ulp < 1
    src = export(SMALL, "float32", "jax")
    c = np.float32(SMALL.consts[3])  # sqrt(2): the constant term
    bad = np.nextafter(np.nextafter(np.nextafter(c, np.float32(2)), np.float32(2)), np.float32(2))
    old = f'float.fromhex("{float(c).hex()}")'
    assert src.count(old) == 1
    planted = load_source(src.replace(old, f'float.fromhex("{float(bad).hex()}")'))
    res = check_exported(None, "exp2", LO, HI, "float32", mod=planted, ref_check=0)
    assert res.max_ulp >= 2 and res.points == interp.points
    clean = check_exported(SMALL, "exp2", LO, HI, "float32", ref_check=0)
    assert clean.max_ulp < 1


def test_fast_figure_matches_the_interpreter_on_a_float32_polynomial():
    """An fma Horner polynomial of 2^x, every float32 of [0.5, 1]: XLA:CPU
    contracts each a*b + c into one fma where the CPU has it, so the fast code
    is the interpreter bit for bit and the figures agree (to 0.25 ulp
    where XLA would not contract)."""
    p = _exp2_poly()
    interp = ulp_check(p, "exp2", 0.5, 1.0, "float32", ref_check=0)
    fast = check_exported(p, "exp2", 0.5, 1.0, "float32", ref_check=0)
    assert interp.points == fast.points == 2 ** 23 + 1
    assert interp.max_ulp < 1 and abs(fast.max_ulp - interp.max_ulp) <= 0.25


def _front(program, lo=LO, hi=HI, fmt="float32"):
    return Front({"target": "exp2", "interval": [lo, hi], "format": fmt, "metric": "ulp",
                  "front": [{"id": 0, "cost": program.ops, "ops": program.ops, "error": 0.5, "max_ulp": 0.5,
                             "ulp_format": fmt, "program": program.text()}]})


def test_api_verify_exported_and_export_with_check():
    f = _front(SMALL)
    a, b = f.verify(exported="fast"), f.verify()
    assert a.points == b.points and a.max_ulp < 1 and abs(a.max_ulp - b.max_ulp) <= 0.25
    assert f.verify(exported="exact").max_ulp == b.max_ulp  # the bit-exact export: the interpreter's figure
    src, err = f.export_with_error("jax", check=True)
    assert err == pytest.approx(a.max_ulp) and f"max {a.max_ulp:.4g} ulp" in src
    assert f.export_with_error("jax")[1] is None
    with pytest.raises(UserError, match="check"):
        f.export("jax_exact", check=True)
    with pytest.raises(UserError, match="exported"):
        f.verify(exported="numpy")
    with pytest.raises(UserError, match="float32 and narrower"):
        _front(SMALL, fmt="float64").verify(exported="fast")


@pytest.mark.parametrize("to", ["jax", "jax_exact"])
def test_speed_ratio_is_well_formed_on_tiny_sizes(to):
    from numsearch.search.timing import speed_ratio_program
    r = speed_ratio_program(_exp2_poly(), "float32", "exp2", 0.0, 1.0, to=to, n=256, steps=3, timings=2,
                            measurements=3)
    assert r["exporter"] == to and r["n"] == 256 and r["steps"] == 3 and len(r["ratios"]) == 3
    assert r["ratio_min"] <= r["ratio_q25"] <= r["ratio"] <= r["ratio_q75"] <= r["ratio_max"]
    assert r["ratio"] > 0 and r["program_ns"] > 0 and r["reference_ns"] > 0
    assert r["reference"].endswith("exp2") and r["dtype"] == "float32"
    b = speed_ratio_program(_exp2_poly(), "bfloat16", "exp2", 0.0, 1.0, to=to, n=64, steps=2, timings=1,
                            measurements=1)
    assert b["dtype"] == "bfloat16" and b["ratio"] > 0


def test_cli_verify_exported_and_export_check(tmp_path):
    import json
    from conftest import cli
    (tmp_path / "front.json").write_text(json.dumps(_front(SMALL).doc))
    r = cli("verify", tmp_path, "--exported", "fast")
    assert r.returncode == 0, r.stderr
    assert "exhaustive check of the compiled jax export" in r.stdout and "max ulp error" in r.stdout
    r = cli("export", tmp_path, "--to", "jax", "--check", "-o", tmp_path / "f.py")
    assert r.returncode == 0, r.stderr
    assert "exhaustive check of the compiled code" in r.stdout
    assert "Measured at export (the figure of record)" in (tmp_path / "f.py").read_text()
    r = cli("export", tmp_path, "--to", "c", "--check")
    assert r.returncode == 2 and "--check" in r.stderr


def test_check_of_compiled_code_sets_flushed_subnormal_inputs_aside():
    """XLA:CPU flushes subnormal inputs to zero: the compiled check does not score a
    subnormal x whose output is 0 (tanh(x) = x there), it counts it; every normal x, and
    any other output at a subnormal x, is scored.  Without that, the same function
    scores millions of ulps at the subnormals."""
    from numsearch.evaluators.verify import ulp_check_function
    tiny = np.float32(2.0 ** -126)
    lo = float(tiny - np.float32(1000) * np.float32(2.0 ** -149))
    hi = float(tiny + np.float32(1000) * np.float32(2.0 ** -149))
    prog = parse_program("c0 = 1.0\nc1 = 0.0\nv0 = fma(x, c0, c1)\nreturn v0")   # tanh(x) = x to the last bit here
    res = check_exported(prog, "tanh(x)", lo, hi, "float32")
    assert res.flushed + res.points == 2001 and res.max_ulp == 0
    mod = load_exported(prog, "float32", to="jax")
    raw = ulp_check_function(lambda xs: np.asarray(mod.approx(xs)), "tanh(x)", lo, hi, "float32", ref_check=0)
    assert raw.flushed is None and raw.points == 2001
    assert (raw.max_ulp > 1) == (res.flushed > 0)
    planted = ulp_check_function(lambda xs: np.where(xs < tiny, np.float32(0), xs * np.float32(1 + 2 ** -22)),
                                 "tanh(x)", lo, hi, "float32", ref_check=0, flush_inputs=True)
    assert planted.flushed == 1000 and planted.points == 1001 and 1.9 < planted.max_ulp < 2.1
