"""The op registry: each op's semantics and every form of it numsearch needs.

Semantics: an op is the exact real function below, rounded once to the
program's format (``real`` evaluates in double-double, ~106 bits).  Adding an
op is one ``OPS.register`` call here; the interpreter, the fitter's
derivatives, the exporters and the parametrized tests all read this table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np

from . import doubledouble as ddm
from . import reduction as red
from .formats import Format
from .registry import Registry


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    commutative: bool          # the first two args may be swapped
    cost: float                # default cost weight (YAML may override)
    dd: Callable               # double-double args -> double-double
    f64: Callable              # float64 args -> float64 (no extra rounding)
    partials: Callable         # float64 args -> tuple of d op / d arg_i
    mp: Callable               # mpmath args -> mpmath value (exact real op)
    sym: Callable              # sympy args -> sympy expression
    infix: str                 # expression template for NumPy/JAX/C ("{0} + {1}")
    latex: str                 # LaTeX template
    doc: str
    # per-language overrides of ``infix`` for the exporters ("numpy", "jax",
    # "c", "sympy"), as ((language, template), ...); a template may call a
    # helper (e.g. ``fma_``) that each exporter defines for the run's format;
    # "f64" is ``f64`` as an expression (NumPy and C syntax: the double-double
    # exporters compute the IEEE specials of ``real`` from it)
    forms: tuple = ()

    def form(self, lang: str) -> str:
        """Expression template for an exporter language (default ``infix``)."""
        return dict(self.forms).get(lang, self.infix)

    def real(self, *args):
        """The op in double-double, with IEEE specials (``doubledouble``'s
        ops give them): where an input is not finite or a divisor is zero the
        result is the float64 one (x/0 = inf, c/inf = 0, ...), so removable
        singularities such as c/x at x = 0 behave as in hardware formats; a
        result beyond the float64 range is +-inf, one within it is finite
        (also where the float64 op on the high parts alone would overflow)."""
        return self.dd(*args)

    def rounded(self, args, fmt: Format) -> np.ndarray:
        """The op on float64 arrays holding values of ``fmt``, rounded once to fmt."""
        if self.name == "fma":
            if fmt.precision is not None and fmt.precision <= 26:
                return ddm.fma_narrow(*args, fmt.round)
            return ddm.fma_float64(*args)
        with np.errstate(all="ignore"):
            # float64 result then one rounding: innocuous double rounding
            # for + - * / when 53 >= 2p + 2 (p <= 25); exact for neg.
            return fmt.round(self.f64(*args))


OPS: Registry[Op] = Registry("op")


def _div64(a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return a / b


def _div_partials(a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = 1.0 / b
        return inv, -a * inv * inv


OPS.register("add", Op(
    "add", 2, True, 1.0,
    dd=ddm.dd_add, f64=lambda a, b: a + b, partials=lambda a, b: (1.0, 1.0),
    mp=lambda a, b: a + b, sym=lambda a, b: a + b,
    infix="({0} + {1})", latex="\\left({0} + {1}\\right)", doc="a + b"))
OPS.register("sub", Op(
    "sub", 2, False, 1.0,
    dd=ddm.dd_sub, f64=lambda a, b: a - b, partials=lambda a, b: (1.0, -1.0),
    mp=lambda a, b: a - b, sym=lambda a, b: a - b,
    infix="({0} - {1})", latex="\\left({0} - {1}\\right)", doc="a - b"))
OPS.register("mul", Op(
    "mul", 2, True, 1.0,
    dd=ddm.dd_mul, f64=lambda a, b: a * b, partials=lambda a, b: (b, a),
    mp=lambda a, b: a * b, sym=lambda a, b: a * b,
    infix="({0} * {1})", latex="{0} \\cdot {1}", doc="a * b"))
OPS.register("div", Op(
    "div", 2, False, 1.0,
    dd=ddm.dd_div, f64=_div64, partials=_div_partials,
    mp=lambda a, b: a / b, sym=lambda a, b: a / b,
    infix="({0} / {1})", latex="\\frac{{{0}}}{{{1}}}", doc="a / b"))
OPS.register("fma", Op(
    "fma", 3, True, 1.0,
    dd=ddm.dd_fma, f64=lambda a, b, c: a * b + c, partials=lambda a, b, c: (b, a, 1.0),
    mp=lambda a, b, c: a * b + c, sym=lambda a, b, c: a * b + c,
    infix="fma({0}, {1}, {2})", latex="\\left({0} \\cdot {1} + {2}\\right)",
    doc="a * b + c with one rounding",
    forms=(("numpy", "fma_({0}, {1}, {2})"), ("jax", "fma_({0}, {1}, {2})"),
           ("c", "fma_({0}, {1}, {2})"), ("sympy", "({0}*{1} + {2})"), ("f64", "({0} * {1} + {2})"))))
OPS.register("neg", Op(
    "neg", 1, False, 1.0,
    dd=ddm.dd_neg, f64=lambda a: -a, partials=lambda a: (-1.0,),
    mp=lambda a: -a, sym=lambda a: -a,
    infix="(-{0})", latex="\\left(-{0}\\right)", doc="-a (exact)"))


# ------------------------------------------ range reduction (see reduction.py)
def _reduction_op(name, arity, commutative, doc, latex, partials, mp, dd, fast=None):
    """An op whose float64 form is ``reduction.<name>_``, its SymPy form
    ``reduction.<name>_sym`` and exported helper ``<name>_`` (each exporter
    defines it for the run's format); ``fast``: its form in the fast JAX
    export (plain jnp, not bit-exact at the edges), else the helper."""
    args = ", ".join(f"{{{i}}}" for i in range(arity))
    OPS.register(name, Op(
        name, arity, commutative, 1.0, dd=dd, f64=getattr(red, f"{name}_"), partials=partials, mp=mp,
        sym=getattr(red, f"{name}_sym"), infix=f"{name}_({args})", latex=latex, doc=doc,
        forms=(("sympy", f"{name}_sym({args})"),) + ((("jax_fast", fast),) if fast else ())))


_reduction_op("rint", 1, False, "nearest integer, ties to even (exact)",
              "\\operatorname{{rint}}\\left({0}\\right)", red.zero_partials, mpmath.nint, red.dd_rint,
              fast="jnp.round({0})")
_reduction_op("ldexp", 2, False, "a * 2^trunc(b), rounded once: exact unless subnormal (then correctly "
              "rounded) or past the range (inf); 2^b need not be representable; NaN b -> NaN",
              "{0} \\cdot 2^{{{1}}}", red.ldexp_partials, red.mp_ldexp, red.dd_ldexp, fast="fast_ldexp_({0}, {1})")
_reduction_op("pow2", 1, False, "2^trunc(a) (ldexp(1, a)): exact powers of two, subnormal ones included; "
              "+inf above the range, 0 below; NaN a -> NaN",
              "2^{{{0}}}", red.zero_partials, red.mp_pow2, red.dd_pow2)
_reduction_op("exponent", 1, False, "e with a = m 2^e, 1/2 <= |m| < 1 (frexp), rounded to the format; "
              "0 at +-0 and +-inf, NaN at NaN",
              "\\operatorname{{exponent}}\\left({0}\\right)", red.zero_partials, red.mp_exponent,
              red.dd_exponent)
_reduction_op("significand", 1, False, "m with a = m 2^e, 1/2 <= |m| < 1 (frexp; exact); +-0, +-inf, NaN "
              "unchanged", "\\operatorname{{significand}}\\left({0}\\right)", red.significand_partials,
              red.mp_significand, red.dd_significand)
_reduction_op("abs", 1, False, "|a| (exact)", "\\left|{0}\\right|", red.abs_partials, abs, red.dd_abs,
              fast="jnp.abs({0})")
_reduction_op("copysign", 2, False, "|a| with the sign of b (-0 included; exact); NaN if a or b is NaN",
              "\\operatorname{{copysign}}\\left({0}, {1}\\right)", red.copysign_partials, red.mp_copysign,
              red.dd_copysign, fast="copysign_bits_({0}, {1})")   # fast: a NaN b gives +-|a|, not NaN
_reduction_op("min", 2, True, "the smaller of a, b (exact); NaN if either is NaN; min(-0, +0) = -0",
              "\\min\\left({0}, {1}\\right)", red.min_partials, lambda a, b: a if a <= b else b, red.dd_min,
              fast="jnp.minimum({0}, {1})")
_reduction_op("max", 2, True, "the larger of a, b (exact); NaN if either is NaN; max(-0, +0) = +0",
              "\\max\\left({0}, {1}\\right)", red.max_partials, lambda a, b: a if a >= b else b, red.dd_max,
              fast="jnp.maximum({0}, {1})")
_reduction_op("select", 3, False, "a where s < 0, else b. Exact in every format (no rounding). s = -0, +0 and "
              "NaN give b (the IEEE comparison s < 0 is false). NaN a or b propagate only when chosen. It is "
              "branch-free (compiles to a compare and a blend), so programs stay straight-line. Derivatives for "
              "the fitter: d/ds = 0, d/da = 1 where s < 0 else 0, d/db = the complement. Cost 1.0. Not commutative",
              "\\begin{{cases}} {1} & \\text{{if }} {0} < 0 \\\\ {2} & \\text{{otherwise}} \\end{{cases}}",
              red.select_partials, red.mp_select, red.dd_select, fast="jnp.where({0} < 0, {1}, {2})")
