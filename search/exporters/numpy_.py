"""NumPy exporter: a self-contained module defining ``approx(x)`` on arrays of
the run's format (ml_dtypes for bfloat16 and float8), bit for bit the
interpreter.

float64 and float32 compute natively; narrower formats carry values in
float64, where + - * / are exact or innocuously rounded, and round each
result once with ``_round`` (ml_dtypes casts from float64 go through float32,
a double rounding, so they are used only on values already representable).
fma rounds a*b + c to odd in float64 first (a*b is exact for p <= 26), which
makes the following rounding correct; float64 fma uses error-free
transformations and exact rationals where those would under/overflow.
"""
from __future__ import annotations

from ...primitives.formats import Format

from ._common import arithmetic, comment, decimal, helpers_used, rounded_consts, live_consts, render, semantics, uses_x
from ._reduction import numpy_helpers

_TWO_SUM = '''

def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
'''

_ODD = '''

def _odd(s, e):
    """Round to odd: where s = fl(a + b) is inexact (error e) and even, step toward e."""
    s = np.asarray(s, dtype=np.float64)
    fix = (e != 0) & ((s.view(np.int64) & 1) == 0) & np.isfinite(s)
    return np.where(fix, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
'''

_FMA_ODD = _TWO_SUM + _ODD + '''

def fma_(a, b, c):
    """a*b + c rounded to odd in float64 (a*b is exact): the next rounding is correct."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    return _odd(*_two_sum(a * b, c))
'''

_FMA_F32 = _TWO_SUM + _ODD + '''

def fma_(a, b, c):
    """Correctly rounded float32 fma: round to odd in float64, then to float32."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    return _odd(*_two_sum(a * b, c)).astype(np.float32)
'''

_FMA_F64 = _TWO_SUM + _ODD + '''

def _two_prod(a, b):
    def split(v):
        t = 134217729.0 * v
        hi = t - (t - v)
        return hi, v - hi
    p = a * b
    (ah, al), (bh, bl) = split(a), split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma_exact(a, b, c):
    s = Fraction(a) * Fraction(b) + Fraction(c)
    if s == 0:  # IEEE sign of an exact zero
        return (a * b) + c if (a == 0 or b == 0) else 0.0
    if abs(s) >= Fraction(2**1024 - 2**970):
        return math.inf if s > 0 else -math.inf
    return float(s)  # int / int division rounds correctly, subnormals too


def _fma_scaled(a, b, c):
    """fma for finite nonzero a, b of any size: a, b scaled to [1/2, 1), c alike;
    returns the result and where it is subnormal (to redo exactly)."""
    (ma, ea), (mb, eb), (mc, ec) = np.frexp(a), np.frexp(b), np.frexp(c)
    e = ea + eb
    d = ec - e
    c_wins = (d > 60) & (c != 0)  # |a*b| < ulp(c) / 4
    cs = np.where(d < -106, np.copysign(2.0**-212, c), np.ldexp(mc, np.clip(d, -106, 60)))
    p, pe = _two_prod(ma, mb)
    th, tl = _two_sum(np.where(c == 0, c, cs), p)
    r = th + _odd(*_two_sum(tl, pe))
    out = np.where(c_wins, c, np.ldexp(r, e))
    return out, ~c_wins & (r != 0) & (np.abs(out) < 2.0**-1021)


def fma_(a, b, c):
    """Correctly rounded float64 a*b + c: error-free transformations (Boldo-
    Melquiond), scaled near overflow/underflow, exact rationals for subnormals."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    p, pe = _two_prod(a, b)
    th, tl = _two_sum(c, p)
    r = th + _odd(*_two_sum(tl, pe))
    fin = np.isfinite(a) & np.isfinite(b) & np.isfinite(c)
    simple = ~fin | (a == 0) | (b == 0)
    r = np.where(simple, np.where(np.isinf(c) & np.isfinite(a) & np.isfinite(b), c, a * b + c), r)
    ab = np.abs(a * b)
    hard = ~simple & ((np.abs(a) >= 2.0**995) | (np.abs(b) >= 2.0**995) | (ab >= 2.0**1020) | (ab < 2.0**-960)
                      | (np.abs(c) >= 2.0**1020) | (np.abs(r) < 2.0**-1021))
    if hard.any():
        r = np.array(r, dtype=np.float64)
        i = np.flatnonzero(hard)
        r.flat[i], redo = _fma_scaled(a.flat[i], b.flat[i], c.flat[i])
        for j in i[redo]:
            r.flat[j] = _fma_exact(float(a.flat[j]), float(b.flat[j]), float(c.flat[j]))
    return r
'''


def _round_src(fmt: Format) -> str:
    over = "np.copysign(np.inf, v)" if fmt.has_inf else "np.nan"
    return f'''

def _round(v):
    """Round float64 values to {fmt.name} ({fmt.precision}-bit significand, min normal
    2^{fmt.emin}, max {decimal(fmt.max_finite)}): nearest, ties to even, one rounding."""
    v = np.asarray(v, dtype=np.float64)
    e = np.maximum(np.frexp(v)[1] - 1, {fmt.emin})
    r = np.ldexp(np.rint(np.ldexp(v, {fmt.precision - 1} - e)), e - {fmt.precision - 1})
    return np.where(np.abs(r) > {fmt.max_finite!r}, {over}, r)
'''


def export_numpy(program, fmt_name: str, header_comment: str = "") -> str:
    fmt = semantics(fmt_name)
    opf = fmt.op_format   # what every instruction rounds to (a mixed format's compute format)
    narrow = opf.name not in ("float32", "float64")
    carrier = "np.float32" if opf.name == "float32" else "np.float64"
    if fmt.numpy_dtype in ("float64", "float32", "float16"):
        dtype_src, imports = f"np.dtype(np.{fmt.numpy_dtype})", "import numpy as np\n"
    else:
        dtype_src = f"np.dtype(ml_dtypes.{fmt.numpy_dtype})"
        imports = "import ml_dtypes\nimport numpy as np\n"
    consts = rounded_consts(program, fmt)

    def ref(r):
        return "x" if r == "x" else r.upper() if r[0] == "c" else r

    body = []
    for k, expr in render(program, "numpy", ref):
        body.append(f"        v{k} = {'_round(' + expr + ')' if narrow else expr}")
    out = ref(program.out)
    if not uses_x(program):
        out = f"np.broadcast_to({out}, x.shape)"
    code = "\n".join(body)
    helpers = ""
    if helpers_used(code, ["fma_"]):
        helpers += _FMA_F64 if opf.name == "float64" else _FMA_F32 if opf.name == "float32" else _FMA_ODD
        if opf.name == "float64":
            imports = "import math\nfrom fractions import Fraction\n\n" + imports
    helpers += numpy_helpers(code)
    if narrow:
        helpers += _round_src(opf)
    const_lines = "".join(
        f'C{i} = {carrier}(float.fromhex("{consts[i].hex()}"))  # {decimal(consts[i])}\n'
        for i in live_consts(program))
    doc = (f'"""Generated by numsearch: approx(x) in {arithmetic(fmt_name)}.\n\n'
           f"x: array of {fmt.name} values (dtype DTYPE); returns an array of DTYPE. Every\n"
           f"instruction is rounded once to {opf.name} (nearest, ties to even); constants are\n"
           + (f"{opf.name} values; the result is rounded once more, to {fmt.name}, by astype(DTYPE).\n"
              if fmt.compute else f"{fmt.name} values. ")
           + f'Self-contained: needs only NumPy{" and ml_dtypes" if "ml_dtypes" in imports else ""}.\n"""\n')
    return (comment(header_comment, "#") + doc + imports + "\n"
            + f"DTYPE = {dtype_src}\n" + const_lines + helpers + "\n\n"
            + "def approx(x):\n"
            + f"    x = np.asarray(x, dtype=DTYPE).astype({carrier})\n"
            + "    with np.errstate(all=\"ignore\"):\n"
            + (code + "\n" if code else "")
            + f"        return np.asarray({out}).astype(DTYPE)\n")
