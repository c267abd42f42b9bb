"""JAX exporter: a module defining a jitted ``approx(x)`` on arrays of the run's
format, bit for bit the interpreter (away from subnormals, see below).

Pitfalls it works around, all measured on XLA:CPU:
- XLA fuses a*b + c into an fma (LLVM contraction): every instruction's result
  goes through ``_keep``, an XOR of its bits with a zero passed at run time;
- XLA folds constants (x + 0.0 -> x, wrong for x = -0): the constants are a
  run-time argument of the kernel, not literals;
- XLA rewrites a / c for a scalar c as a * (1 / c) (a second rounding): the
  constants are spread to arrays XLA cannot tell are broadcasts (``_spread``);
- XLA skips bfloat16 round trips (excess precision): narrow formats are
  carried in float32 and rounded by integer arithmetic on the bits (``_round``);
- XLA has no fma: it is emulated with error-free transformations (scaled by
  powers of two so that they neither overflow nor underflow).
XLA:CPU flushes subnormal float32/float64 values to zero (JAX's documented
choice), so results differ from the interpreter wherever a float32, bfloat16
or float64 value on the way is subnormal; float16 and float8 are unaffected.
The float32/float64/bfloat16 fma emulation flushes subnormal results on every
backend.  Verified on CPU only (no GPU was available).
"""
from __future__ import annotations

from ...primitives.formats import Format

from ._common import arithmetic, comment, decimal, helpers_used, live_consts, render, rounded_consts, semantics
from ._reduction import jax_helpers

_CARRIERS = {  # name: (jnp dtype, uint dtype, mantissa bits, bias, exponent mask, Veltkamp split)
    "float32": ("float32", "uint32", 23, 127, 0xFF, 4097.0),
    "float64": ("float64", "uint64", 52, 1023, 0x7FF, 134217729.0),
}

_BASE = '''

def _keep(v, z):
    """Identity XLA cannot see through (XOR of the bits with a run-time zero):
    stops XLA fusing a*b + c into an fma or folding across this point."""
    return lax.bitcast_convert_type(lax.bitcast_convert_type(v, _U) ^ z, _F)


def _spread(c, zv):
    """The scalar c as an array XLA does not know to be a broadcast (it would
    rewrite a / broadcast(c) as a * (1 / c), a different rounding)."""
    return _keep(jnp.broadcast_to(c, zv.shape), zv)
'''

_EFT = '''

def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _odd(s, e):
    """Round to odd: where s = fl(a + b) is inexact (error e) and even, step toward e."""
    bits = lax.bitcast_convert_type(s, _U)
    fix = (e != 0) & ((bits & _UN(1)) == 0) & jnp.isfinite(s)
    step = jnp.where((e > 0) == (s > 0), bits + _UN(1), bits - _UN(1))
    return jnp.where(fix, lax.bitcast_convert_type(step, _F), s)
'''

_FMA_TRUE_SCALE = '''

def _fma(a, b, c, z):
    """a*b + c rounded to odd in float32 (a*b is exact there for {name}): the
    _round that follows is then a correct rounding."""
    return _odd(*_two_sum(a * b, c))
'''

_FMA_SCALED = '''

_M, _BIAS, _EMASK, _SPLIT = {m}, {bias}, {emask}, {split!r}
_DHI, _DLO = {dhi}, {dlo}  # c beyond 2^DHI times a*b wins alone; below 2^-DLO it is a sticky bit


def _exp(v):
    """Unbiased exponent field of v (int32)."""
    return ((lax.bitcast_convert_type(v, _U) >> _M) & _UN(_EMASK)).astype(jnp.int32) - _BIAS


def _setexp(v, e):
    """v with its exponent field set to e (normal range): exact scaling by a power of two."""
    bits = lax.bitcast_convert_type(v, _U) & _UN(~(_EMASK << _M) & {allbits})
    return lax.bitcast_convert_type(bits | (jnp.asarray(e + _BIAS, jnp.int32).astype(_U) << _M), _F)


def _norm(v):
    """(significand in [1, 2) with v's sign, exponent) of a nonzero finite v."""
    sub = jnp.abs(v) < {tiny!r}
    w = jnp.where(sub, v * {up!r}, v)
    return _setexp(w, 0), _exp(w) - jnp.where(sub, _M + 1, 0)


def _fma(a, b, c, z):
    """Correctly rounded fma without an fma instruction: a and b are scaled to
    [1, 2) and c alike, so the error-free transformations in _finish neither
    overflow nor underflow; results subnormal in the carrier flush to zero."""
    fin = jnp.isfinite(a) & jnp.isfinite(b) & jnp.isfinite(c)
    simple = ~fin | (a == 0) | (b == 0)
    naive = jnp.where(jnp.isinf(c) & jnp.isfinite(a) & jnp.isfinite(b), c, _keep(a * b, z) + c)
    ma, ea = _norm(a)
    mb, eb = _norm(b)
    mc, ec = _norm(c)
    e = ea + eb
    d = ec - e
    cs = jnp.where(d < -_DLO, jnp.copysign({sticky!r}, c), _setexp(mc, jnp.clip(d, -_DLO, _DHI)))
    r = _finish(ma, mb, jnp.where(c == 0, c, cs), z)
    ne = _exp(r) + e
    out = jnp.where(ne > _BIAS, jnp.copysign(jnp.inf, r),
                    jnp.where(ne < 1 - _BIAS, jnp.copysign(0.0, r), _setexp(r, jnp.clip(ne, 1 - _BIAS, _BIAS))))
    out = jnp.where(r == 0, r, out)
    out = jnp.where((d > _DHI) & (c != 0), c, out)
    return jnp.where(simple, naive, out)
'''

_FINISH_RN = '''

def _split(v, z):
    t = _keep(_SPLIT * v, z)
    hi = t - (t - v)
    return hi, v - hi


def _finish(a, b, c, z):
    """RN(a*b + c) for a, b in [1, 2) (Boldo-Melquiond: round to odd, then nearest)."""
    p = _keep(a * b, z)
    (ah, al), (bh, bl) = _split(a, z), _split(b, z)
    pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    th, tl = _two_sum(c, p)
    return th + _odd(*_two_sum(tl, pe))
'''

_FINISH_NARROW = '''

def _finish(a, b, c, z):
    """a*b + c (a*b exact in float32) rounded to odd, then to {name}."""
    return _round(_odd(*_two_sum(a * b, c)))
'''


def _round_src(fmt: Format) -> str:
    sh = 24 - fmt.precision
    over = "jnp.copysign(jnp.inf, v)" if fmt.has_inf else "jnp.nan"
    sub = ""
    if fmt.emin > -126:
        p1 = fmt.precision - 1
        sub = (f"    small = jnp.round(v * {2.0 ** (p1 - fmt.emin)!r}) * {2.0 ** (fmt.emin - p1)!r}\n"
               f"    r = jnp.where(jnp.abs(v) < {2.0 ** fmt.emin!r}, small, r)\n")
    return f'''

def _round(v):
    """Round float32 values to {fmt.name} ({fmt.precision}-bit significand, min normal
    2^{fmt.emin}, max {decimal(fmt.max_finite)}), nearest, ties to even, by integer
    arithmetic on the bits (which XLA can neither skip nor fuse)."""
    bits = lax.bitcast_convert_type(v, jnp.uint32)
    m = bits & np.uint32(0x7FFFFFFF)
    m = (m + np.uint32({(1 << (sh - 1)) - 1}) + ((m >> {sh}) & np.uint32(1))) & np.uint32({0xFFFFFFFF ^ ((1 << sh) - 1)})
    r = lax.bitcast_convert_type(m | (bits & np.uint32(0x80000000)), jnp.float32)
{sub}    r = jnp.where(jnp.abs(r) > {fmt.max_finite!r}, {over}, r)
    return jnp.where(jnp.isnan(v), v, r)
'''


def _fma_src(fmt: Format, carrier: str) -> str:
    if fmt.name not in _CARRIERS and 2 * (fmt.emin - fmt.precision + 1) >= -126 and fmt.max_finite ** 2 < 2.0 ** 128:
        return _EFT + _FMA_TRUE_SCALE.format(name=fmt.name)
    f, u, m, bias, emask, split = _CARRIERS[carrier]
    prec = m + 1
    allbits = (1 << (8 * (4 if u == "uint32" else 8))) - 1
    src = _EFT + _FMA_SCALED.format(m=m, bias=bias, emask=emask, split=split, dhi=prec + 7, dlo=2 * prec,
                                    allbits=allbits, tiny=2.0 ** (1 - bias), up=2.0 ** (m + 1),
                                    sticky=2.0 ** (-4 * prec))
    return src + (_FINISH_RN if fmt.name in _CARRIERS else _FINISH_NARROW.format(name=fmt.name))


def export_jax(program, fmt_name: str, header_comment: str = "") -> str:
    fmt = semantics(fmt_name)
    opf = fmt.op_format   # what every instruction rounds to (a mixed format's compute format)
    carrier = opf.name if opf.name in _CARRIERS else "float32"
    f, u = _CARRIERS[carrier][:2]
    narrow = opf.name not in _CARRIERS
    consts = rounded_consts(program, fmt)

    body = [f"    v{k} = {'_round(' + e + ')' if narrow else '_keep(' + e + ', z)'}"
            for k, e in render(program, "jax", lambda r: r)]
    spread = [f"    c{i} = _spread(c[{i}], zv)" for i in live_consts(program)]
    code = "\n".join(["    zv = lax.bitcast_convert_type(x, _U) & z  # zeros XLA cannot see"] + spread + body)
    helpers = _BASE
    if helpers_used(code, ["fma_"]):
        helpers += _fma_src(opf, carrier)
        code = "    fma_ = lambda a, b, c_: _fma(a, b, c_, z)\n" + code
    helpers += jax_helpers(code, *_CARRIERS[carrier][2:4])
    if narrow:
        helpers += _round_src(opf)
    out = program.out
    x64 = opf.name == "float64"
    const_lines = "".join(f'    float.fromhex("{consts[i].hex()}"),  # c{i} = {decimal(consts[i])}\n'
                          for i in range(len(consts)))
    unused = sorted(set(range(len(consts))) - set(live_consts(program)))
    doc = (f'"""Generated by numsearch: approx(x) for JAX, in {arithmetic(fmt_name)}.\n\n'
           f"x: array of {fmt.name} values; returns an array of DTYPE. Every instruction is\n"
           f"rounded once to {opf.name} (nearest, ties to even); constants are {opf.name} values.\n"
           + (f"The result is rounded once more, to {fmt.name} (nearest, ties to even).\n" if fmt.compute else "")
           + ("Needs 64-bit JAX: jax.config.update('jax_enable_x64', True) at start-up, or call\n"
              "approx inside `with jax.enable_x64(True):`; approx raises otherwise.\n" if x64 else
              f"Values are carried in float32 and rounded to {opf.name} after every op.\n" if narrow else "")
           + "Bit-exact when called as approx(x): the constants and a zero are run-time\n"
           "arguments of the jitted kernel, so XLA can neither fold them, nor rewrite a / c\n"
           "as a * (1/c), nor fuse a*b + c into an fma. Inside your own jax.jit, call\n"
           "kernel(x, CONSTS, ZERO) with CONSTS and ZERO passed in as arguments of your\n"
           "function for the same guarantee.\n"
           + ("XLA:CPU flushes subnormals to zero, so results differ where a value on the\n"
              f"way is subnormal in {carrier}.\n" if fmt.emin <= -126 else "")
           + '"""\n')
    return (comment(header_comment, "#") + doc
            + "import jax\nimport jax.numpy as jnp\nimport numpy as np\nfrom jax import lax\n\n"
            + f"DTYPE = jnp.{fmt.numpy_dtype}\n_F, _U, _UN = jnp.{f}, jnp.{u}, np.{u}\n"
            + f"# the program's constants rounded to {opf.name}"
            + (f" (unused: {', '.join(f'c{i}' for i in unused)})" if unused else "") + "\n"
            + f"CONSTS = np.array([\n{const_lines}], dtype=np.{f})\nZERO = np.{u}(0)\n"
            + helpers + "\n\n@jax.jit\ndef kernel(x, c, z):\n"
            + "    x = jnp.asarray(x, DTYPE).astype(_F)\n" + (code + "\n" if code else "")
            + f"    return jnp.asarray({out}).astype(DTYPE)\n\n\n"
            + "def approx(x):\n"
            + ("    if jax.dtypes.canonicalize_dtype(jnp.float64) != jnp.float64:\n"
               "        raise RuntimeError(\"float64 program: enable 64-bit JAX first \"\n"
               "                           \"(jax.config.update('jax_enable_x64', True))\")\n" if x64 else "")
            + "    return kernel(jnp.asarray(x, DTYPE), CONSTS, ZERO)\n")
