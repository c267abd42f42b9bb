"""Fast JAX exporter: a module defining a jitted ``approx(x)`` written as code
XLA compiles well, at the price of bit-exactness: the exporter registered as
``jax`` (and ``jax_fast``, its former name); ``jax_exact`` is the bit-exact one.

What the code is: plain jax.numpy arithmetic on one carrier dtype; the
constants are module-level scalars of that dtype (``np.float32(...)``) that
reach the kernel through one ``lax.optimization_barrier`` (with literals,
XLA's simplifier folds (a + c) - c to a and rewrites a / c as a * (1/c));
fma is written ``a * b + c`` (``fma_``); no per-instruction barriers, no
emulation.  Range-reduction ops get cheaper forms where ``_ranges`` proves
them exact (rint by a shift, pow2 and ldexp on the exponent bits).  Every instruction renders through the
op registry: the op's "jax_fast" form where it has one, else its "jax" form
(``Op.form``, default its infix); the range-reduction ops' helpers (rint_,
ldexp_, ...: jnp code on the bits, no emulation) come from ``_reduction``;
an op whose form calls any other helper (a name ending in ``_``, other than
``fma_``) is refused (ValueError) until it gets a "jax_fast" form.

Carrier: float32 for float32 and every narrower format (float16, bfloat16,
float8): x is widened to float32 (exact), every instruction computes in
float32 and the result is rounded once, at the end, to the format
(``astype``, to nearest even: what the format's dtype conversion does in
XLA); the interpreter instead rounds after every instruction.  float64 and
``real`` compute in float64 (64-bit JAX must be on).

Not bit-exact with the interpreter: XLA may contract a*b + c into one fma
(or not: the program's fma is then two roundings), XLA:CPU flushes
subnormals to zero, copysign(a, b) works on the bits (a NaN b gives +-|a|, where
the interpreter gives NaN), and a rint whose result feeds pow2 (directly, or
plus an integer constant c, an add that is then not computed) is a shift by
1.5 * 2^m + bias (+ c), an odd constant when c is even, so that ties go to odd
integers (its other uses see the same k, so a reduction stays consistent).  A
select whose sign is a - b, used nowhere else, compares a < b.  The figure of
record is the exhaustive check of the compiled function (``numsearch verify
--exported fast``).
"""
from __future__ import annotations

import re
import textwrap

from ...primitives.ops import OPS

from ._common import arithmetic, comment, decimal, live, live_consts, rounded_consts, semantics
from ._ranges import exponent_add_ok, exponent_sat_ok, value_ranges
from ._reduction import NAMES as REDUCTION_NAMES, jax_helpers
from .jax_ import _CARRIERS

GUARANTEE = ("not bit-exact with the interpreter (XLA may contract a*b+c into one fma, flushes subnormals; "
             "copysign(a, NaN) is +-|a|; a rint whose result feeds pow2 may send ties to odd integers); "
             "the ULP figure of record is the exhaustive check of this compiled function")

_EXP_RANGE = {"float32": (-126, 127), "float64": (-1022, 1023)}   # carrier -> (emin, emax)
LANGS = ("jax_fast", "jax")  # the op forms tried, in order (then the op's infix)
_HELPERS = {"fma_": "def fma_(a, b, c):\n    \"\"\"a*b + c as XLA sees fit: one fma if it contracts, else two roundings.\"\"\"\n"
                    "    return a * b + c\n",
            "fast_ldexp_": '''def fast_ldexp_(a, k):
    """a * 2^trunc(k) as two exact power-of-two factors built from exponent bits
    (n clipped to +-2 * bias, where every result is already 0 or inf): one rounding,
    exact where the result is normal; subnormal results flush to zero on XLA:CPU."""
    n = jnp.clip(k, -2 * _BIAS_, 2 * _BIAS_).astype(_I_)
    h = n >> 1
    p = lambda e: lax.bitcast_convert_type((e + _BIAS_).astype(_I_) << _M_, a.dtype)
    return a * p(h) * p(n - h)
''',
            "ldexp_bits_": '''def ldexp_bits_(a, k):
    """a * 2^k for k integer-valued with |k| <= 2 bias (the exporter proved it so): k as an
    integer from the low bits of k + 1.5 * 2^m, then two normal powers of two from exponent
    bits (fields 0 and 2 bias + 1 give 0 and inf); one rounding where the result is normal."""
    n = lax.bitcast_convert_type(k + _S0_, _I_) - _SI_
    h = n >> 1
    p = lambda e: lax.bitcast_convert_type((e + _BIAS_) << _M_, a.dtype)
    return a * p(h) * p(n - h)
''',
            "ldexp_add_": '''def ldexp_add_(a, n):
    """a * 2^n for integer n (int array) by adding n to a's exponent field: one integer
    add, exact where a and the result are normal (the exporter proved them so for
    every input)."""
    return lax.bitcast_convert_type(lax.bitcast_convert_type(a, _I_) + (n << _M_), a.dtype)
''',
            "ldexp_sat_": '''def ldexp_sat_(a, n):
    """a * 2^n for integer n (int array) and positive normal a, by adding n to a's
    exponent field (the exporter proved the sum cannot wrap): exact where the result is
    normal; an exponent field past the largest gives inf, one below 1 gives 0."""
    b = lax.bitcast_convert_type(a, _I_) + (n << _M_)
    return lax.bitcast_convert_type(jnp.where(b >= _MINBITS_, jnp.minimum(b, _INFBITS_), 0), a.dtype)
''',
            "copysign_bits_": '''def copysign_bits_(a, b):
    """|a| with the sign bit of b, on the bits (IEEE copysign: a NaN b gives +-|a| by its
    sign bit): one bitwise select, a single instruction with AVX-512 (jnp.copysign: three)."""
    m = lax.bitcast_convert_type(jnp.asarray(-0.0, a.dtype), _I_)   # the sign bit
    ia, ib = lax.bitcast_convert_type(a, _I_), lax.bitcast_convert_type(b, _I_)
    return lax.bitcast_convert_type((ia & ~m) | (ib & m), a.dtype)
''',
            "pow2_shift_": '''def pow2_shift_(t):
    """2^(k + c) from t = k + RSB_ (a rint by shift whose constant carries the exponent bias
    and pow2's offset c, so t's low bits hold k + c + bias; the exporter proved k + c in
    [emin, emax]): t's bits shifted into the exponent field.  One instruction."""
    return lax.bitcast_convert_type(lax.bitcast_convert_type(t, _I_) << _M_, t.dtype)
''',
            "pow2_bits_": '''def pow2_bits_(k):
    """2^k for k integer-valued in [emin - 1, emax + 1] (the exporter proved it so): k + _S_
    holds k + bias in its low bits, shifted into the exponent field; emax + 1 gives inf,
    emin - 1 gives 0.  Two instructions (add, shift)."""
    return lax.bitcast_convert_type(lax.bitcast_convert_type(k + _S_, _I_) << _M_, k.dtype)
''',
            }


def _pow2_form(k_range, carrier: str) -> str:
    """pow2's fast form for an argument in ``k_range`` (``value_ranges``): 2^k from
    exponent bits, with trunc only where k is not proved integer-valued and a clamp
    to [emin - 1, emax + 1] (0 and inf) only on a side where k is not proved
    within it.  Not bit-exact: a subnormal power of two comes out as 0 (XLA:CPU
    flushes it anyway); NaN k gives a power of two or 0, not NaN."""
    lo, hi, integer = k_range
    emin, emax = _EXP_RANGE[carrier]
    e = "{0}" if integer else "jnp.trunc({0})"
    if lo < emin - 1:
        e = f"jnp.maximum({e}, np.{carrier}({emin - 1}))"
    if hi > emax + 1:
        e = f"jnp.minimum({e}, np.{carrier}({emax + 1}))"
    return f"pow2_bits_({e})"


def _ldexp_bits_ok(k_range, carrier: str) -> bool:
    """Whether ldexp's k is proved integer-valued within +-2 bias (``ldexp_bits_``)."""
    lo, hi, integer = k_range
    emin, emax = _EXP_RANGE[carrier]
    return integer and -2 * emax <= lo and hi <= 2 * emax


def _rint_by_shift(a_range, carrier: str) -> bool:
    """Whether rint(a) may be computed as (a + S) - S, S = 1.5 * 2^m (m the
    carrier's mantissa bits): a proved within +-2^(m-2), where a + S rounds a
    to an integer (ties to even: S is even) and t = a + S holds it in its low bits."""
    lo, hi, _ = a_range
    return -(2.0 ** (_CARRIERS[carrier][2] - 2)) <= lo and hi <= 2.0 ** (_CARRIERS[carrier][2] - 2)


def _pow2_shift_ok(k_range, carrier: str) -> bool:
    """Whether pow2(k), k a rint, may be t's bits shifted, t = k + bias + 1.5 * 2^m: k proved
    integer-valued within [emin - 1, emax + 1] (exponent fields 0 to 2 bias + 1: 0 and inf at
    the ends), so that k + bias fills the exponent field and the shift drops the rest."""
    lo, hi, integer = k_range
    emin, emax = _EXP_RANGE[carrier]
    return integer and emin - 1 <= lo and hi <= emax + 1


def _shifted_range(k_range, j: int):
    lo, hi, integer = k_range
    return lo + j, hi + j, integer


def _compares(program) -> dict[int, int]:
    """select instructions whose sign s is a sub a - b used only as selects' signs: select
    index -> sub index.  Their code compares a < b (one compare, which XLA shares between
    them) and the sub is not computed; it differs from the sign test only where a - b is
    subnormal (the compare sees a != b, the flushed difference is 0)."""
    signs: dict[str, list[int]] = {}
    other: set[str] = {program.out}
    for k in live(program):
        ins = program.instrs[k]
        for i, a in enumerate(ins.args):
            if ins.op == "select" and i == 0:
                signs.setdefault(a, []).append(k)
            else:
                other.add(a)
    return {k: int(s[1:]) for s, ks in signs.items() if s.startswith("v") and s not in other
            and program.instrs[int(s[1:])].op == "sub" for k in ks}


def _pow2_offsets(program) -> dict[str, tuple[str, int]]:
    """adds k + c (either order) whose only uses are pow2's arguments, k an instruction and c
    an integer-valued constant within +-64: add ref -> (k, c).  pow2(k + c) is then the
    shift of a rint's t whose constant carries the exponent bias plus c (no add computed)."""
    uses: dict[str, set[str]] = {}
    for k in live(program):
        ins = program.instrs[k]
        for a in ins.args:
            uses.setdefault(a, set()).add(ins.op)
    uses.setdefault(program.out, set()).add("out")
    out = {}
    for k in live(program):
        ins = program.instrs[k]
        if ins.op != "add" or uses.get(f"v{k}") != {"pow2"}:
            continue
        v, c = sorted(ins.args, key=lambda a: a.startswith("c"))
        if v.startswith("v") and c.startswith("c"):
            val = float(program.consts[int(c[1:])])
            if val.is_integer() and abs(val) <= 64:
                out[f"v{k}"] = (v, int(val))
    return out


def _rsb(j: int) -> str:
    """The name of the shift constant 1.5 * 2^m + bias + j."""
    return "RSB_" if j == 0 else f"RSB{j}_" if j > 0 else f"RSBm{-j}_"


def _ref(r: str) -> str:
    """A program ref as a name in the module (constants are C0, C1, ...)."""
    return r.upper() if r[0] == "c" else r


def _shift_int(program, n_ref: str, ranges, carrier: str, shifted: dict) -> str:
    """Code for ldexp's n as an integer array: where n = t - 1.5 * 2^m (a rint by
    shift, ``shifted``: n -> t, or the program's own sub of that constant), t's
    bits themselves (the shift into the exponent field drops the rest); else a
    conversion."""
    m = _CARRIERS[carrier][2]
    if n_ref in shifted:
        return f"lax.bitcast_convert_type({shifted[n_ref]}, _I_)"
    if n_ref.startswith("v"):
        ins = program.instrs[int(n_ref[1:])]
        if ins.op == "sub" and ins.args[1].startswith("c") and program.consts[int(ins.args[1][1:])] == 1.5 * 2.0 ** m:
            lo, hi, integer = ranges[ins.args[0]]
            if integer and 2.0 ** m + 2.0 ** (m - 2) <= lo and hi <= 2.0 ** (m + 1) - 2.0 ** (m - 2):
                return f"lax.bitcast_convert_type({_ref(ins.args[0])}, _I_)"
    return f"{_ref(n_ref)}.astype(_I_)"


def fast_form(op) -> str:
    """The op's template for this exporter: its first form in ``LANGS``, else its infix."""
    forms = dict(op.forms)
    return next((forms[lang] for lang in LANGS if lang in forms), op.infix)


def carrier(fmt_name: str) -> str:
    """The dtype the fast code computes in: float64 for float64/real, else float32."""
    return "float64" if semantics(fmt_name).name == "float64" else "float32"


def export_jax_fast(program, fmt_name: str, header_comment: str = "", measured: str = "",
                    inputs: tuple[float, float] | None = None) -> str:
    """Source of the fast module; ``measured``: the exhaustive check's figure
    of this compiled function, when it was run at export (else the header says
    where the figure of record comes from); ``inputs``: (lo, hi), a
    precondition: the code need be right only for x in [lo, hi] (the forms
    are proved for those inputs; outside, the result is unspecified), None:
    every input."""
    fmt = semantics(fmt_name)
    f = carrier(fmt_name)
    consts = rounded_consts(program, fmt)
    ref = _ref
    rounded = program.with_consts(consts) if program.consts else program
    xr = (-float("inf"), float("inf")) if inputs is None else (float(inputs[0]), float(inputs[1]))
    ranges = value_ranges(rounded, xr, f)
    # ldexp's forms first: an integer add to the exponent field takes its k from the bits of a shifted rint
    scale = {}
    for k in live(program):
        if program.instrs[k].op == "ldexp":
            scale[k] = ("ldexp_add_" if exponent_add_ok(rounded, k, f, xr) else
                        "ldexp_sat_" if exponent_sat_ok(rounded, k, f, xr) else None)
    int_k = {program.instrs[k].args[1] for k, form in scale.items() if form}
    # pow2's arguments: a rint k, or k + c (c an integer constant: the shift constant carries bias + c);
    # a rint met with two offsets keeps the first
    offsets = _pow2_offsets(rounded)
    pow2_k: dict[str, int] = {}
    for k in live(program):
        if program.instrs[k].op == "pow2":
            kr, j = offsets.get(program.instrs[k].args[0], (program.instrs[k].args[0], 0))
            pow2_k.setdefault(kr, j)
    compare = _compares(program)
    body, shifted, biased = [], {}, {}

    def shift_of(ref: str) -> str | None:
        """The shifted rint's t whose bits give pow2(ref): ref a biased rint (offset 0) or k + c
        with k biased by c; else None."""
        kr, j = offsets.get(ref, (ref, 0))
        t, bj = biased.get(kr, (None, None))
        return t if bj == j else None

    for k in live(program):
        ins = program.instrs[k]
        tmpl = fast_form(OPS[ins.op])
        args = ins.args
        if k in compare.values():
            continue   # a sub whose only use is a select's sign: the select compares instead
        if ins.op == "rint" and f"v{k}" in int_k and _rint_by_shift(ranges[ins.args[0]], f):
            # (a + S) - S: as many instructions as jnp.round (the add fuses with a multiply before it, if
            # any), and the integer k is t's bits, where jnp.round needs a conversion more
            body.append(f"    t{k} = {ref(ins.args[0])} + RS_  # rint by shift: t = k + 1.5 * 2^m exactly")
            shifted[f"v{k}"] = f"t{k}"
            tmpl = f"t{k} - RS_"
        elif ins.op == "rint" and f"v{k}" in pow2_k and _pow2_shift_ok(
                _shifted_range(ranges[f"v{k}"], pow2_k[f"v{k}"]), f):
            # the same shift with the exponent bias (plus pow2's offset c) in its constant: t's low
            # bits hold k + bias + c, so pow2(k + c) is t's bits shifted (one instruction, where
            # pow2_bits_ adds the bias first)
            j = pow2_k[f"v{k}"]
            body.append(f"    t{k} = {ref(ins.args[0])} + {_rsb(j)}  # rint by shift: t = k + bias"
                        + (f" + {j}" if j > 0 else f" - {-j}" if j else "") + " + 1.5 * 2^m exactly")
            biased[f"v{k}"] = (f"t{k}", j)
            tmpl = f"t{k} - {_rsb(j)}"
        elif ins.op == "add" and shift_of(f"v{k}"):
            continue   # k + c whose only uses are pow2s: they shift the rint's t, whose constant holds c
        elif ins.op == "pow2" and shift_of(ins.args[0]):
            tmpl, args = "pow2_shift_({0})", (shift_of(ins.args[0]),)
        elif ins.op == "pow2":
            tmpl = _pow2_form(ranges[ins.args[0]], f)
        elif k in compare:
            tmpl, args = "jnp.where({0} < {1}, {2}, {3})", (*program.instrs[compare[k]].args, *ins.args[1:])
        elif ins.op == "ldexp" and scale[k]:
            tmpl = scale[k] + "({0}, " + _shift_int(rounded, ins.args[1], ranges, f, shifted) + ")"
        elif ins.op == "ldexp" and _ldexp_bits_ok(ranges[ins.args[1]], f):
            tmpl = "ldexp_bits_({0}, {1})"
        expr = tmpl.format(*(a if a.startswith("t") else ref(a) for a in args))
        for h in re.findall(r"\b([A-Za-z]\w*_)\(", expr):
            if h not in _HELPERS and h not in REDUCTION_NAMES:
                raise ValueError(f"op {ins.op}: its JAX form {tmpl!r} calls {h}, which the jax_fast exporter does not "
                                 f"define: give the op a 'jax_fast' form")
        body.append(f"    v{k} = {expr}")
    code = "\n".join(body)
    helpers = "".join("\n\n\n" + src for name, src in _HELPERS.items() if re.search(r"\b" + name + r"\(", code))
    reduction = jax_helpers(code, *_CARRIERS[f][2:4])   # range-reduction ops: the bit-exact exporter's jnp helpers
    narrow = f != fmt.numpy_dtype
    x64 = f == "float64"
    unused = sorted(set(range(len(consts))) - set(live_consts(program)))
    const_lines = "".join(f'C{i} = np.{f}(float.fromhex("{consts[i].hex()}"))  # {decimal(consts[i])}\n'
                          for i in live_consts(program))
    rsbs = sorted({j for _, j in biased.values()})
    names = [f"C{i}" for i in live_consts(program)] + (["RS_"] if shifted else []) + [_rsb(j) for j in rsbs]
    # the constants reach the code through an optimisation barrier: XLA sees values, not literals, so it cannot
    # fold (a + C) - C to a (a rounding step, e.g. rint by 1.5 * 2^23) nor rewrite a / C as a * (1/C)
    barrier = (f"    {', '.join(names)}, = lax.optimization_barrier(tuple(jnp.asarray(c) for c in _CONSTS_))\n"
               if names else "")
    figure = (textwrap.fill(f"Measured at export (the figure of record): {measured}", 88) + "\n" if measured else
              "Not measured at export: `numsearch verify RUN --pick P --exported fast` measures it\n"
              "(formats float32 and narrower), or export with --check.\n")
    doc = (f'"""Generated by numsearch: approx(x) for JAX, fast code for {arithmetic(fmt_name)}.\n\n'
           f"x: array of {fmt.name} values; returns an array of DTYPE. Plain jax.numpy in {f}\n"
           f"(constants are {fmt.op_format.name} values in {f}, fma is a * b + c)"
           + (f"; the result is rounded\nonce, at the end, to {fmt.name}"
              + (" (as the program does).\n" if fmt.compute else " (the program rounds after every op).\n")
              if narrow else ".\n")
           + ("Needs 64-bit JAX: jax.config.update('jax_enable_x64', True) at start-up.\n" if x64 else "")
           + (textwrap.fill(f"Precondition: x in [{xr[0]!r}, {xr[1]!r}]. The code is right only there (its fast "
                            f"forms are proved for those inputs); outside, the result is unspecified.", 88) + "\n"
              if inputs is not None else "")
           + "\n" + textwrap.fill(GUARANTEE[0].upper() + GUARANTEE[1:] + ".", 88) + "\n"
           + "The constants pass through an optimisation barrier, so XLA computes with them as\n"
           "written (no folding of (a + c) - c, no a / c as a * (1/c)).\n" + figure + '"""\n')
    return (comment(header_comment, "#") + doc
            + "import jax\nimport jax.numpy as jnp\nimport numpy as np\nfrom jax import lax\n\n"
            + f"DTYPE = jnp.{fmt.numpy_dtype}\n"
            + (f"_F, _U, _UN = jnp.{f}, jnp.{_CARRIERS[f][1]}, np.{_CARRIERS[f][1]}\n" if reduction else "")
            + (f"_I_, _M_, _BIAS_ = jnp.int{f[-2:]}, {_CARRIERS[f][2]}, {_CARRIERS[f][3]}\n"
               if re.search(r"\b(fast_ldexp|\w+_bits|ldexp_add|ldexp_sat|pow2_shift)_\(", code)
               else "")
            + (f"_INFBITS_, _MINBITS_ = (np.int{f[-2:]}(np.{f}(v).view(np.int{f[-2:]})) for v in (np.inf, "
               f"np.finfo(np.{f}).tiny))  # bits of inf, of the smallest normal\n" if "ldexp_sat_(" in code else "")
            + (f"_S0_ = np.{f}(1.5 * 2.0 ** _M_)  # k + _S0_ holds k in the low bits of its integer view\n"
               f"_SI_ = np.{f}(_S0_).view(np.int{f[-2:]})\n" if "ldexp_bits_(" in code else "")
            + (f"_S_ = np.{f}(1.5 * 2.0 ** _M_ + _BIAS_)  # k + _S_: k + bias in the low bits\n"
               if "pow2_bits_(" in code else "")
            + f"# the program's constants rounded to {fmt.name}"
            + (f" (unused: {', '.join(f'c{i}' for i in unused)})" if unused else "") + "\n"
            + const_lines + (f"RS_ = np.{f}(1.5 * 2.0 ** {_CARRIERS[f][2]})  # rint by shift\n" if shifted else "")
            + "".join(f"{_rsb(j)} = np.{f}(1.5 * 2.0 ** {_CARRIERS[f][2]} + {_CARRIERS[f][3] + j})"
                      f"  # rint by shift, plus the exponent bias" + (f" and {j}" if j else "") + "\n"
                      for j in rsbs)
            + (f"_CONSTS_ = ({', '.join(names)},)\n" if names else "") + helpers + ("\n\n" + reduction if reduction else "") + "\n\n\ndef kernel(x):\n"
            + f"    x = jnp.asarray(x, DTYPE).astype(jnp.{f})\n" + barrier + (code + "\n" if code else "")
            + f"    return jnp.broadcast_to(jnp.asarray({ref(program.out)}, jnp.{f}), x.shape).astype(DTYPE)\n\n\n"
            + "approx = jax.jit(kernel)\n")
