"""Exporters round-trip: the generated NumPy, JAX and C code reproduces the
interpreter bit for bit, for every op in every format, on 10^5 inputs with edge
cases; the SymPy expression is the exact real function; LaTeX shows every
constant.  Heavy work (building the C library, jitting) is done once per
(exporter, format) and shared by the parametrized tests."""
from __future__ import annotations

import ctypes
import functools
import importlib.util
import re
import shutil
import subprocess
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.ops import OPS
from numsearch.search.exporters import EXPORTERS, export, to_sympy
from numsearch.primitives.program import Instr, Program, parse_program

N = 100_000
CODE = ["jax_exact", "numpy", "c"]


def semantics(fmt_name):
    return FORMATS[fmt_name].hardware


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# ----------------------------------------------------------------- programs
def _const_pool(fmt):
    f = semantics(fmt)
    p = f.precision
    tiny = 2.0 ** (f.emin - p + 1)
    return [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, -2.5, 1 / 3, np.pi, -np.e, 1e-3, 7e4, 2.0 ** f.emin, tiny,
            f.max_finite, -f.max_finite, f.max_finite ** 0.5, 1 + 2.0 ** (1 - p), 1 - 2.0 ** -p]


def _patterns(arity):
    if arity == 1:
        return [("x",)]
    if arity == 2:
        return [("x", "c0"), ("c0", "x"), ("x", "x")]
    return [("x", "c0", "c1"), ("c0", "x", "c1"), ("x", "c0", "x"), ("x", "x", "c0"), ("c0", "c1", "x"),
            ("x", "x", "x")]


def _random_program(rng, ops, n, consts):
    instrs = []
    for k in range(n):
        op = ops[k] if k < len(ops) else rng.choice(OPS.names())
        refs = ["x"] * 2 + [f"c{i}" for i in range(len(consts))] + [f"v{j}" for j in range(k)] * 2
        args = [str(rng.choice(refs)) for _ in range(OPS[op].arity)]
        if k > 0 and f"v{k - 1}" not in args:  # keep a chain, so most instructions are live
            args[0] = f"v{k - 1}"
        instrs.append(Instr(op, tuple(args)))
    return Program(tuple(consts), tuple(instrs), f"v{n - 1}")


@functools.lru_cache(maxsize=None)
def programs(op, fmt):
    """Single-op programs (each argument pattern) and a few multi-op ones with fma."""
    rng = _rng("programs", op, fmt)
    pool = _const_pool(fmt)
    pick = lambda: float(pool[rng.integers(len(pool))]) if rng.random() < 0.5 else float(
        rng.choice([-1, 1]) * np.exp(rng.normal(0, 3)))
    pats = _patterns(OPS[op].arity)
    progs = [Program((pick(), pick()), (Instr(op, pat),), "v0") for pat in pats]
    progs += [Program((np.e * 3 / 7, -np.pi / 5), (Instr(op, pat),), "v0") for pat in pats if "c0" in pat]
    progs.append(_random_program(rng, [op, "fma"] if rng.random() < 0.5 else ["fma", op], 4,
                                 [pick() for _ in range(3)]))
    if OPS[op].arity == 2:  # integer-valued constants at the ends of the exponent range (ldexp's k)
        f = semantics(fmt)
        progs += [Program((k,), (Instr(op, ("x", "c0")),), "v0")
                  for k in (f.emin - f.precision, float(np.frexp(f.max_finite)[1]))]
    if op == "ldexp":  # a whole-domain float32 exp: min, max, rint, fma and ldexp
        progs.append(parse_program((Path(__file__).parent / "data" / "exp_float32_reduction.txt").read_text()))
    # Horner-like chain with cancellation near the root of c0*x + c1 (fma cancels there)
    progs.append(parse_program(f"c0 = {np.pi.hex()}\nc1 = {(-np.e).hex()}\nv0 = fma(x, c0, c1)\n"
                               f"v1 = {op}({', '.join(['v0', 'x', 'c1'][:OPS[op].arity])})\nreturn v1"))
    return progs


def all_programs(fmt):
    return [(op, i, p) for op in OPS.names() for i, p in enumerate(programs(op, fmt))]


# ------------------------------------------------------------------- inputs
def _format_values(fmt):
    """Every value of a format of at most 16 bits (as float64)."""
    dt = _dtype(fmt)
    bits = np.arange(2 ** (8 * dt.itemsize), dtype=np.uint8 if dt.itemsize == 1 else np.uint16)
    with np.errstate(all="ignore"):
        return bits.view(dt).astype(np.float64)


@functools.lru_cache(maxsize=None)
def inputs(fmt):
    f = semantics(fmt)
    rng = _rng("inputs", fmt)
    tiny = 2.0 ** (f.emin - f.precision + 1)
    edge = [0.0, -0.0, tiny, -tiny, 2.0 ** f.emin - tiny, 2.0 ** f.emin, -(2.0 ** f.emin), f.max_finite,
            -f.max_finite, f.max_finite / 2, f.max_finite ** 0.5, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan]
    # ties of rint, integers at the ends of the exponent range (ldexp's k), past 2^p
    ints = np.array([f.emin - f.precision - 1, f.emin - f.precision, f.emin - 1, f.emin, 1 - f.emin,
                     float(np.frexp(f.max_finite)[1]), np.frexp(f.max_finite)[1] + 1.0, 2.0 ** f.precision + 2])
    edge += [v for k in (1.5, 2.5, 3.5, 0.5 + 2.0 ** (f.precision - 2)) for v in (k, -k)]
    edge += np.concatenate([ints, -ints, ints - 0.5]).tolist()
    extra = []
    for _, _, p in all_programs(fmt):  # around ratios of constants: where sums and fma cancel
        cs = np.array(p.consts)
        with np.errstate(all="ignore"):
            r = np.concatenate([cs, -cs, (-cs[:, None] / cs[None, :]).ravel(), np.sqrt(np.abs(cs))])
            extra.append(r[:, None] * (1 + np.arange(-3, 4) * 2.0 ** -f.precision))
    extra = np.concatenate([e.ravel() for e in extra])
    if f.precision <= 11 or f.name == "bfloat16":
        base = _format_values(fmt)
        rest = rng.choice(base[np.isfinite(base)], N)
    else:
        it, ft = (np.uint32, np.float32) if f.name == "float32" else (np.uint64, np.float64)
        info = np.iinfo(it)
        with np.errstate(all="ignore"):
            bits = rng.integers(0, info.max, N // 3, dtype=it, endpoint=True).view(ft).astype(np.float64)
        moderate = rng.choice([-1, 1], N) * np.exp2(rng.uniform(-12, 12, N))
        base, rest = bits, moderate
    x = np.concatenate([np.array(edge), extra, base, rest])[:N]
    with np.errstate(all="ignore"):
        return f.round(x)


@functools.lru_cache(maxsize=None)
def interp(fmt, op, i):
    return evaluate(programs(op, fmt)[i], inputs(fmt), semantics(fmt).name)


def same_bits(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


def ftz_mask(fmt, prog, x):
    """Elements where XLA:CPU's flush-to-zero may act: some value on the way
    (argument, unrounded or rounded result) is subnormal in the JAX carrier."""
    f = semantics(fmt).op_format   # the format values are computed in (a mixed format: its compute format)
    if f.emin > -126:
        return np.zeros(x.shape, bool)
    lim = 2.0 ** (-1021 if f.name == "float64" else -125)
    small = lambda v: (np.abs(v) < lim) & (v != 0)
    cs = f.round(np.asarray(prog.consts, np.float64)) if prog.consts else []
    vals, bad = {"x": x}, small(x)
    with np.errstate(all="ignore"):
        for i, c in enumerate(cs):
            vals[f"c{i}"] = np.full_like(x, c)
        for k, ins in enumerate(prog.instrs):
            args = [vals[a] for a in ins.args]
            op = OPS[ins.op]
            vals[f"v{k}"] = op.rounded(args, f)
            bad = bad | small(op.f64(*args)) | small(vals[f"v{k}"]) | np.any([small(a) for a in args], axis=0)
    return bad


def _load(src, tmp_path_factory, name):
    path = tmp_path_factory.mktemp("exp") / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------ run exports
def _ident(fmt: str) -> str:
    """The format's name as part of an identifier (mixed formats: bfloat16@float32)."""
    return fmt.replace("@", "_at_")


def _dtype(fmt):
    import ml_dtypes
    name = semantics(fmt).numpy_dtype
    return np.dtype(getattr(np, name, None) or getattr(ml_dtypes, name))


@pytest.fixture(scope="session")
def numpy_out(tmp_path_factory):
    @functools.lru_cache(maxsize=None)
    def run(fmt):
        x = inputs(fmt).astype(_dtype(fmt))
        out = {}
        for op, i, p in all_programs(fmt):
            mod = _load(export(p, fmt, "numpy", p.text()), tmp_path_factory, f"np_{_ident(fmt)}_{op}_{i}")
            y = mod.approx(x)
            assert y.dtype == _dtype(fmt)
            out[op, i] = y.astype(np.float64)
        return out
    return run


@pytest.fixture(scope="session")
def jax_out(tmp_path_factory):
    jax = pytest.importorskip("jax")

    @functools.lru_cache(maxsize=None)
    def run(fmt):
        x = inputs(fmt).astype(_dtype(fmt))
        progs = all_programs(fmt)
        mods = [_load(export(p, fmt, "jax_exact", p.text()), tmp_path_factory, f"jx_{_ident(fmt)}_{op}_{i}") for op, i, p in progs]
        with jax.enable_x64(semantics(fmt).name == "float64"):
            # one jit for the whole format (compile time): the kernels embedded
            # in an outer jit, constants and zero passed as its arguments
            batch = jax.jit(lambda x, cs, z: [m.kernel(x, c, z) for m, c in zip(mods, cs)])
            ys = batch(x, [m.CONSTS for m in mods], mods[0].ZERO)
            for j in (0, len(mods) - 1):  # and the plain entry point (the last program has fma)
                y = np.asarray(mods[j].approx(x)).astype(np.float64)
                assert same_bits(y, np.asarray(ys[j]).astype(np.float64)).all()
        return {(op, i): np.asarray(y).astype(np.float64) for (op, i, _), y in zip(progs, ys)}
    return run


@pytest.fixture(scope="session")
def c_out(tmp_path_factory):
    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    d = tmp_path_factory.mktemp("c")
    files, fns = [], {}
    for fmt in FORMATS.names():  # one file per format (gcc start-up time): each
        ct = "double" if semantics(fmt).name == "float64" else "float"
        src = []                 # program's static helpers renamed by macros
        for op, i, p in all_programs(fmt):
            name = f"approx_{_ident(fmt)}_{op}_{i}"
            code = export(p, fmt, "c", p.text(), name=name)
            helpers = re.findall(r"^static \w+ (\w+)\(", code, re.M)  # renamed for each program
            src += ["\n".join(f"#define {h} {h}{name}" for h in helpers), code,
                    "\n".join(f"#undef {h}" for h in helpers),
                    f"void run_{name}(const {ct} *x, {ct} *y, long n)",
                    f"{{\n    long i;\n    for (i = 0; i < n; i++)\n        y[i] = {name}(x[i]);\n}}"]
            fns[fmt, op, i] = (f"run_{name}", np.float64 if ct == "double" else np.float32)
        (d / f"{_ident(fmt)}.c").write_text("\n".join(src) + "\n")
        files.append(f"{_ident(fmt)}.c")
    flags = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-c"]
    half = len(files) // 2
    jobs = [subprocess.Popen([gcc, *flags, *part], cwd=d, stderr=subprocess.PIPE, text=True)
            for part in (files[:half], files[half:])]
    for j in jobs:
        _, err = j.communicate()
        assert j.returncode == 0, err
    objs = [f[:-2] + ".o" for f in files]
    subprocess.run([gcc, "-shared", "-o", "lib.so", *objs, "-lm"], cwd=d, check=True)
    lib = ctypes.CDLL(str(d / "lib.so"))

    def run(fmt, op, i):
        fn, ct = fns[fmt, op, i]
        with np.errstate(all="ignore"):  # (NaN payloads)
            x = np.ascontiguousarray(inputs(fmt).astype(ct))
        y = np.empty_like(x)
        getattr(lib, fn)(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(x.size))
        return y.astype(np.float64)
    return run


# -------------------------------------------------------------------- tests
@pytest.mark.parametrize("exporter", CODE)
@pytest.mark.parametrize("fmt", FORMATS.names())
@pytest.mark.parametrize("op", OPS.names())
def test_bit_exact(op, fmt, exporter, request):
    x, checked = inputs(fmt), []
    for i, p in enumerate(programs(op, fmt)):
        want = interp(fmt, op, i)
        if exporter == "numpy":
            got, ok = request.getfixturevalue("numpy_out")(fmt)[op, i], np.ones(x.shape, bool)
        elif exporter == "jax_exact":
            got, ok = request.getfixturevalue("jax_out")(fmt)[op, i], ~ftz_mask(fmt, p, x)
        else:
            got, ok = request.getfixturevalue("c_out")(fmt, op, i), np.ones(x.shape, bool)
        bad = ~same_bits(got, want) & ok
        checked.append(ok.mean())
        if bad.any():
            j = np.flatnonzero(bad)[:5]
            pytest.fail(f"{exporter} {fmt} program {i}:\n{p.text()}\n{bad.sum()} mismatches, e.g. "
                        f"x={[v.hex() for v in x[j]]} got={[v.hex() for v in got[j]]} want={[v.hex() for v in want[j]]}")
    assert np.mean(checked) > 0.5  # (JAX: most elements are not in flush-to-zero territory)


def test_c_gnu_mode_does_not_fuse(tmp_path):
    """GNU C modes contract a*b + c by default; the exported file's pragma prevents it."""
    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    p = parse_program(f"c0 = {(1 / 3).hex()}\nc1 = {(-np.pi).hex()}\nv0 = mul(x, c0)\nv1 = add(v0, c1)\nreturn v1")
    (tmp_path / "a.c").write_text(export(p, "float32", "c") + (
        "void run(const float *x, float *y, long n) { long i; for (i = 0; i < n; i++) y[i] = approx(x[i]); }\n"))
    r = subprocess.run([gcc, "-O2", "-std=gnu99", "-march=native", "-Wall", "-Wextra", "-Werror", "-fPIC",
                        "-shared", "-o", "a.so", "a.c", "-lm"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    x = np.linspace(-100, 100, 10001).astype(np.float32)
    y = np.empty_like(x)
    ctypes.CDLL(str(tmp_path / "a.so")).run(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p),
                                           ctypes.c_long(x.size))
    assert same_bits(y, evaluate(p, x.astype(np.float64), "float32")).all()


# ------------------------------------------------------------ sympy, latex
SYM_PROGRAMS = [
    "c0 = 0x1.62e42fefa39efp-1\nc1 = 0x1.ebfbdff82c58fp-3\nc2 = 0x1p0\n"
    "v0 = fma(x, c1, c0)\nv1 = fma(v0, x, c2)\nreturn v1",
    "c0 = 0x1.8p1\nc1 = -0x1.4p-2\nv0 = add(x, c0)\nv1 = sub(x, c1)\nv2 = div(v1, v0)\nv3 = neg(v2)\n"
    "v4 = mul(v3, v3)\nreturn v4",
    "c0 = 0x1.999999999999ap-4\nreturn c0",
]


def _sym_programs():
    rng = _rng("sympy")
    out = [parse_program(t) for t in SYM_PROGRAMS]
    out += [Program((1.25, 0.375), (Instr(op, ("x", "c0", "c1")[: OPS[op].arity]),), "v0") for op in OPS.names()]
    out += [_random_program(rng, ["fma", "div"], 4, [float(v) for v in rng.uniform(0.5, 2, 3)]) for _ in range(3)]
    return out


@pytest.mark.parametrize("k", range(len(_sym_programs())))
def test_sympy_exact(k, tmp_path_factory):
    sympy = pytest.importorskip("sympy")
    p = _sym_programs()[k]
    expr = to_sympy(p)
    mod = _load(export(p, "real", "sympy", p.text()), tmp_path_factory, f"sym{k}")
    assert sympy.cancel(mod.expr - expr) == 0
    xs = np.array([1.0, 1.5, 0.1, 3.0, -0.7])
    hi, lo = evaluate(p, xs, "real")
    x = sympy.Symbol("x")
    for v, h, l in zip(xs, hi, lo):
        exact = Fraction(str(expr.subs(x, sympy.Rational(*v.as_integer_ratio()))))
        approx = Fraction(h) + Fraction(l)
        assert abs(approx - exact) <= Fraction(1, 10 ** 25) * max(abs(exact), Fraction(1, 10 ** 300)), (p.text(), v)
    if expr.free_symbols:
        assert sympy.cancel(to_sympy(p, simplify=True) - expr) == 0


@pytest.mark.parametrize("fmt", ["real", "float32", "bfloat16"])
def test_latex_shows_constants(fmt):
    for p in _sym_programs() + programs("fma", fmt):
        s = export(p, fmt, "latex", "program text here")
        assert s.strip() and "% program text here" in s
        for i, c in enumerate(semantics(fmt).round(np.asarray(p.consts, np.float64))):
            if np.isfinite(c) and (any(f"c{i}" in ins.args for ins in p.instrs) or p.out == f"c{i}"):
                assert f"{c:.17g}".split("e")[0].lstrip("-") in s and float(c).hex() in s


# ---------------------------------------------------------------- registry
def test_registry():
    assert set(EXPORTERS.names()) == {"jax", "jax_exact", "jax_fast", "numpy", "c", "sympy", "latex"}
    with pytest.raises(ValueError):
        EXPORTERS.register("c", EXPORTERS["c"])
    with pytest.raises(KeyError):
        export(parse_program("return x"), "float32", "fortran")
    with pytest.raises(KeyError):
        export(parse_program("return x"), "float128", "c")


@pytest.mark.parametrize("to", EXPORTERS.names())
def test_header_comment(to):
    p = parse_program("c0 = 0x1.8p0\nv0 = mul(x, c0)\nreturn v0")
    s = export(p, "float32", to, "program:\n" + p.text() + "\nmax error 1.5e-3 */ end")
    assert "max error 1.5e-3" in s[:300]
    if to == "c":  # the header's "*/" must not close the C comment early
        assert s.index("*/") > s.index("end")


# ------------------------------------------------------------------ select
# two pieces of a tanh-like float32 kernel joined without a branch: an odd
# polynomial below |x| = 0.625 (s = |x| - 0.625 < 0), copysign(1 - c4 / (|x| + c3), x) above;
# the pieces do not meet at the threshold, so a wrong choice shows
SELECT_PROGRAM = """c0 = 0x1.4p-1
c1 = -0x1.5p-2
c2 = 0x1p0
c3 = 0x1.8p0
c4 = 0x1.2p0
c5 = 0x1p0
v0 = abs(x)
v1 = sub(v0, c0)
v2 = mul(x, x)
v3 = fma(v2, c1, c2)
v4 = mul(v3, x)
v5 = add(v0, c3)
v6 = div(c4, v5)
v7 = sub(c5, v6)
v8 = copysign(v7, x)
v9 = select(v1, v4, v8)
return v9"""


def _select_inputs(ft):
    """Around the threshold (s = -ulp, 0, +ulp: 0.625 itself gives b), both signs, specials."""
    t = ft(0.625)
    near = [np.nextafter(t, ft(0)), t, np.nextafter(t, ft(2))]
    tiny = np.finfo(ft).smallest_subnormal
    x = np.concatenate([np.linspace(-4, 4, 4001, dtype=ft), near, [-v for v in near],
                        np.array([0.0, -0.0, tiny, -tiny, np.inf, -np.inf, np.nan], dtype=ft)])
    return x


def _run_c(src, ct, x, tmp_path):
    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    (tmp_path / "s.c").write_text(src + f"void run(const {ct} *x, {ct} *y, long n) "
                                  "{ long i; for (i = 0; i < n; i++) y[i] = approx(x[i]); }\n")
    r = subprocess.run([gcc, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-o", "s.so", "s.c",
                        "-lm"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    ctypes.CDLL(str(tmp_path / "s.so")).run(x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p),
                                           ctypes.c_long(x.size))
    return y.astype(np.float64)


@pytest.mark.parametrize("fmt", ["float32", "float64", "bfloat16"])
def test_select_program_exports_match_the_interpreter(fmt, tmp_path, tmp_path_factory):
    """The select kernel: NumPy and C bit for bit everywhere, JAX away from flushed
    subnormals, jax_fast within an ulp (it may fuse a*b + c) and on the same piece;
    SymPy the exact piecewise function, LaTeX a cases environment."""
    p = parse_program(SELECT_PROGRAM)
    dt = _dtype(fmt)
    x = _select_inputs(np.float64 if fmt == "float64" else np.float32).astype(dt)
    x64 = x.astype(np.float64)
    want = evaluate(p, x64, fmt)
    assert want[np.flatnonzero(x64 == 0.625)[0]] == evaluate(p, np.array([0.625]), fmt)[0]
    assert np.any((np.abs(x64) < 0.625) & (want != 0)) and np.any(np.abs(want) > 0.5)
    got = _load(export(p, fmt, "numpy"), tmp_path_factory, f"sel_np_{fmt}").approx(x).astype(np.float64)
    assert same_bits(got, want).all(), "numpy"
    ct = "double" if fmt == "float64" else "float"
    got = _run_c(export(p, fmt, "c"), ct, x64.astype(np.float64 if ct == "double" else np.float32), tmp_path)
    assert same_bits(got, want).all(), "c"
    jax = pytest.importorskip("jax")
    with jax.enable_x64(fmt == "float64"):
        got = np.asarray(_load(export(p, fmt, "jax_exact"), tmp_path_factory, f"sel_jx_{fmt}").approx(x)).astype(np.float64)
        ok = ~ftz_mask(fmt, p, x64)
        assert same_bits(got, want)[ok].all() and ok.mean() > 0.99, "jax_exact"
        if fmt != "bfloat16":   # (jax_fast rounds once at the end: bfloat16 is another function)
            fast = _load(export(p, fmt, "jax"), tmp_path_factory, f"sel_fast_{fmt}")
            got = np.asarray(fast.approx(x)).astype(np.float64)
            fin = np.isfinite(want) & ok
            assert np.all(np.abs(got - want)[fin] <= FORMATS[fmt].ulp(want[fin])), "jax_fast"
            assert same_bits(got, want)[~np.isfinite(want)].all()
    sympy = pytest.importorskip("sympy")
    expr, s = to_sympy(p, fmt), sympy.Symbol("x")
    assert expr.has(sympy.Piecewise)
    for v in (-1.0, -0.5, 0.5, 0.625, 2.0):
        exact = Fraction(str(expr.subs(s, sympy.Rational(*v.as_integer_ratio()))))
        assert abs(float(exact) - evaluate(p, np.array([v]), "real")[0][0]) <= 1e-15, v
    assert "\\begin{cases}" in export(p, fmt, "latex") and "\\end{cases}" in export(p, fmt, "latex")


@pytest.mark.parametrize("fmt", ["float32", "float64"])
def test_select_jax_reads_the_sign_of_a_subnormal(fmt, tmp_path_factory):
    """XLA:CPU compares a subnormal as zero; the bit-exact JAX export's select reads s's
    bits instead, so select(-smallest subnormal, a, b) is a, as in the interpreter,
    and a chosen subnormal comes out unflushed."""
    jax = pytest.importorskip("jax")
    ft = np.float64 if fmt == "float64" else np.float32
    tiny = np.finfo(ft).smallest_subnormal
    p = parse_program("c0 = 0x1.8p0\nv0 = select(x, x, c0)\nreturn v0")
    x = np.array([-tiny, tiny, -0.0, 0.0, -np.finfo(ft).tiny / 2, np.nan, -np.inf, -1.0], dtype=ft)
    want = evaluate(p, x.astype(np.float64), fmt)
    assert same_bits(want, [-tiny, 1.5, 1.5, 1.5, -np.finfo(ft).tiny / 2, 1.5, -np.inf, -1.0]).all()
    with jax.enable_x64(fmt == "float64"):
        got = np.asarray(_load(export(p, fmt, "jax_exact"), tmp_path_factory, f"sel_sub_{fmt}").approx(x)).astype(np.float64)
    assert same_bits(got, want).all(), got
