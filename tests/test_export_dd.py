"""Double-double exports (``--arith dd``) of real programs reproduce the
interpreter's ``real`` evaluation: NumPy bit for bit (hi and lo) on every
input, C bit for bit wherever every value on the way lies in [2^-700, 2^700]
(or is zero or not finite: its fma product is exact where Dekker's split is
not, see search/exporters/c_dd.py), for every op of the registry."""
from __future__ import annotations

import ctypes
import functools
import shutil
import subprocess

import numpy as np
import pytest

from numsearch.primitives.interpret import evaluate, walk
from numsearch.primitives.ops import OPS
from numsearch.primitives.program import parse_program
from numsearch.search.exporters import EXPORTERS, export
from numsearch.search.exporters.c_dd import DD_C
from test_export import _load, inputs, programs, same_bits

DD_EXPORTERS = [n for n, e in EXPORTERS.items() if e.dd is not None]


def test_dd_exporters():
    assert DD_EXPORTERS == ["numpy", "c"]


@functools.lru_cache(maxsize=None)
def want(op, i):
    hi, lo = evaluate(programs(op, "real")[i], inputs("real"), "real")
    return np.broadcast_to(hi, inputs("real").shape), np.broadcast_to(lo, inputs("real").shape)


def beyond_dekker(prog, x):
    """Elements where a value on the way (an argument's hi, the product of the
    first two, the float64 result), finite and nonzero, is outside [2^-700, 2^700]:
    there the C export's textbook double-double (no rescaling, unlike the
    interpreter's) is not compared bit for bit."""
    bad = np.zeros(x.shape, bool)
    zero = np.zeros_like(x)

    def out(v):
        a = np.abs(np.broadcast_to(v, x.shape))
        return np.isfinite(a) & (a != 0) & ((a < 2.0 ** -700) | (a > 2.0 ** 700))

    def step(op, args):
        nonlocal bad
        his = [a[0] for a in args]
        bad = bad | out(OPS[op].f64(*his)) | np.any([out(h) for h in his], axis=0)
        if len(his) > 1:
            bad = bad | out(his[0] * his[1])
        return OPS[op].real(*args)

    walk(prog, (x, zero), [(np.full_like(x, c), zero) for c in prog.consts], step)
    return bad


@pytest.fixture(scope="session")
def numpy_dd_out(tmp_path_factory):
    @functools.lru_cache(maxsize=None)
    def run(op, i):
        p = programs(op, "real")[i]
        mod = _load(export(p, "real", "numpy", p.text(), arith="dd"), tmp_path_factory, f"npdd_{op}_{i}")
        hi, lo = mod.approx_dd(inputs("real"))
        y = mod.approx(inputs("real"))
        with np.errstate(invalid="ignore"):
            assert same_bits(y, hi + lo).all()
        return hi, lo
    return run


@pytest.fixture(scope="session", params=[["-std=c99"], ["-std=gnu99", "-march=native"]], ids=["c99", "gnu-native"])
def c_dd_out(request, tmp_path_factory):
    """All real programs' dd exports in one file (the helpers' include guard
    lets them share it), built in an ISO mode and in a GNU mode that would fuse."""
    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    d = tmp_path_factory.mktemp("cdd")
    src = []
    for op in DD_C:
        for i, p in enumerate(programs(op, "real")):
            if not _in_c_dd(p):
                continue
            name = f"approx_{op}_{i}"
            src += [export(p, "real", "c", p.text(), arith="dd", name=name),
                    f"void run_{name}(const double *x, double *hi, double *lo, double *y, long n)",
                    f"{{\n    long i;\n    for (i = 0; i < n; i++) {{\n        {name}_dd(x[i], hi + i, lo + i);\n"
                    f"        y[i] = {name}(x[i]);\n    }}\n}}"]
    (d / "dd.c").write_text("\n".join(src) + "\n")
    r = subprocess.run([gcc, "-O2", *request.param, "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-o", "dd.so",
                        "dd.c", "-lm"], cwd=d, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lib = ctypes.CDLL(str(d / "dd.so"))

    @functools.lru_cache(maxsize=None)
    def run(op, i):
        x = np.ascontiguousarray(inputs("real"))
        hi, lo, y = np.empty_like(x), np.empty_like(x), np.empty_like(x)
        ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
        getattr(lib, f"run_approx_{op}_{i}")(ptr(x), ptr(hi), ptr(lo), ptr(y), ctypes.c_long(x.size))
        with np.errstate(invalid="ignore"):
            assert same_bits(y, hi + lo).all()
        return hi, lo
    return run


def _in_c_dd(p) -> bool:
    """Whether every op of p has a C double-double form."""
    return {ins.op for ins in p.instrs} <= set(DD_C)


def _compare(exporter, op, got_fn, masked):
    x, checked = inputs("real"), []
    for i, p in enumerate(programs(op, "real")):
        if exporter == "c" and not _in_c_dd(p):
            continue
        (hi, lo), (whi, wlo) = got_fn(op, i), want(op, i)
        ok = ~beyond_dekker(p, x) if masked else np.ones(x.shape, bool)
        bad = ~(same_bits(hi, whi) & (same_bits(lo, wlo) | ((lo == 0) & (wlo == 0)))) & ok  # a zero lo's sign is no value
        checked.append(ok.mean())
        if bad.any():
            j = np.flatnonzero(bad)[:5]
            pytest.fail(f"{exporter} dd program {i}:\n{p.text()}\n{bad.sum()} mismatches, e.g. x={[v.hex() for v in x[j]]} "
                        f"got={[(a.hex(), b.hex()) for a, b in zip(hi[j], lo[j])]} "
                        f"want={[(a.hex(), b.hex()) for a, b in zip(whi[j], wlo[j])]}")
    return float(np.mean(checked))


@pytest.mark.parametrize("op", OPS.names())
def test_numpy_dd_bit_exact(op, numpy_dd_out):
    assert _compare("numpy", op, numpy_dd_out, masked=False) == 1.0


@pytest.mark.parametrize("op", list(DD_C))
def test_c_dd_bit_exact(op, c_dd_out):
    assert _compare("c", op, c_dd_out, masked=True) > 0.5  # most inputs are in range


def test_c_dd_and_interpreter_exact_where_dekker_would_overflow(tmp_path):
    """Beyond 2^995 a textbook Dekker split overflows; the interpreter rescales
    and the C export's fma product needs no split: both give x * 0.5 exactly."""
    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    p = parse_program("c0 = 0x1p-1\nv0 = mul(x, c0)\nreturn v0")
    (tmp_path / "m.c").write_text(export(p, "real", "c", arith="dd") + (
        "void run(const double *x, double *hi, double *lo, long n)\n"
        "{\n    long i;\n    for (i = 0; i < n; i++)\n        approx_dd(x[i], hi + i, lo + i);\n}\n"))
    r = subprocess.run([gcc, "-O2", "-std=c99", "-fPIC", "-shared", "-o", "m.so", "m.c", "-lm"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    x = np.ldexp(1.0 + np.arange(1, 50) * 2.0 ** -40, 1000)
    hi, lo = np.empty_like(x), np.empty_like(x)
    ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    ctypes.CDLL(str(tmp_path / "m.so")).run(ptr(x), ptr(hi), ptr(lo), ctypes.c_long(x.size))
    assert (hi == x / 2).all() and (lo == 0).all()
    whi, wlo = evaluate(p, x, "real")
    assert (whi == hi).all() and (wlo == 0).all()
    assert beyond_dekker(p, x).all()   # where the C comparison above is masked


def test_c_dd_refuses_an_op_it_cannot_write():
    """Ops without a C double-double form (the range-reduction ops) get a clear error, not wrong code."""
    missing = [op for op in OPS.names() if op not in DD_C]
    assert missing
    p = parse_program(f"v0 = {missing[0]}(x{', x' * (OPS[missing[0]].arity - 1)})\nreturn v0")
    with pytest.raises(ValueError, match=f"no form for op.*{missing[0]}"):
        export(p, "real", "c", arith="dd")
