"""The helpers the range-reduction ops (``primitives/reduction.py``: rint, ldexp,
pow2, exponent, significand, abs, copysign, min, max, select) call in exported code, one
set per language; each exporter adds those its program uses.

NumPy and SymPy exports get the source of the interpreter's own forms
(``reduction.<op>_`` and ``reduction.<op>_sym``).  JAX builds ldexp from
exponent bits (exact scaling by normal powers of two, the last product doing
the one rounding; ``jnp.ldexp`` is not exact at the ends), C calls libm
(``nearbyint``, ``ldexp``, ``frexp``, ``copysign``), with NaN and signed-zero
handling spelled out where libm's differs (fmin/fmax ignore NaN).  select is
a compare and a blend everywhere; JAX compares s's bits, not s, since
XLA:CPU compares a subnormal s as zero (select(-2^-140, a, b) would give b).
"""
from __future__ import annotations

import inspect
from string import Template

from ...primitives import reduction

from ._common import helpers_used

NAMES = ["rint_", "ldexp_", "pow2_", "exponent_", "significand_", "abs_", "copysign_", "min_", "max_",
         "select_"]
SYM_NAMES = [n + "sym" for n in NAMES]


def _closure(code: str, names, source) -> str:
    """Sources of the helpers ``code`` calls, and of those they call."""
    out: dict[str, str] = {}
    todo = helpers_used(code, names)
    while todo:
        n = todo.pop()
        if n not in out:
            out[n] = source(n)
            todo += helpers_used(out[n], names)
    return "".join("\n\n" + out[n] for n in names if n in out)


def numpy_helpers(code: str) -> str:
    return _closure(code, NAMES, lambda n: inspect.getsource(getattr(reduction, n)).rstrip() + "\n")


def sympy_helpers(code: str) -> str:
    return _closure(code, SYM_NAMES, lambda n: inspect.getsource(getattr(reduction, n)).rstrip() + "\n")


# ---------------------------------------------------------------- JAX
_JAX = {
    "rint_": '''
def rint_(a):
    return jnp.round(a)  # half to even
''',
    "abs_": '''
def abs_(a):
    return jnp.abs(a)
''',
    "copysign_": '''
def copysign_(a, b):
    return jnp.where(jnp.isnan(b), a + b, jnp.copysign(a, b))
''',
    "min_": '''
def min_(a, b):
    """NaN if either is NaN; min(-0, +0) = -0."""
    return jnp.where(jnp.isnan(a) | jnp.isnan(b), a + b,
                     jnp.where(a < b, a, jnp.where(b < a, b, jnp.where(jnp.signbit(a), a, b))))
''',
    "max_": '''
def max_(a, b):
    """NaN if either is NaN; max(-0, +0) = +0."""
    return jnp.where(jnp.isnan(a) | jnp.isnan(b), a + b,
                     jnp.where(a > b, a, jnp.where(b > a, b, jnp.where(jnp.signbit(a), b, a))))
''',
    "select_": '''
def select_(s, a, b):
    """a where s < 0, else b (s = -0, +0 and NaN give b), from s's bits: negative, not -0,
    not NaN (XLA:CPU would compare a subnormal s as 0)."""
    u = lax.bitcast_convert_type(s, _U)
    return jnp.where((u > _UN({sign})) & (u <= _UN({neginf})), a, b)
''',
    "pow2_": '''
def pow2_(a):
    """2^trunc(a) as ldexp(1, a)."""
    return ldexp_(jnp.ones_like(a), a)
''',
    "exponent_": '''
def exponent_(a):
    """frexp's exponent (0 at +-0 and +-inf), NaN at NaN."""
    return jnp.where(jnp.isnan(a), a, jnp.frexp(a)[1].astype(a.dtype))
''',
    "significand_": '''
def significand_(a):
    return jnp.frexp(a)[0]  # +-0, +-inf, NaN unchanged
''',
    "ldexp_": '''
def _pow2(e):
    """2^e for int32 e in the carrier's normal range, from the exponent bits."""
    return lax.bitcast_convert_type((e + {bias}).astype(_U) << _UN({m}), _F)


def ldexp_(a, k):
    """a * 2^trunc(k) rounded once, k saturated at +-2200, NaN k -> NaN (not jnp.ldexp, which
    is not exact at the ends of the range): a * 2^n = t * 2^e1 with t in [1, 2) is scaled by
    normal powers of two only, exactly where the result is normal, inf past the range; a
    subnormal result is rounded by the last product alone (XLA:CPU flushes it to zero)."""
    n = jnp.where(jnp.isnan(k), 0, jnp.clip(jnp.trunc(k), -2200, 2200)).astype(jnp.int32)
    m, e = jnp.frexp(a)
    t = m * 2
    e1 = e + n - 1  # a * 2^n = t * 2^e1
    y = jnp.where(e1 > {emax}, jnp.copysign(jnp.inf, a).astype(a.dtype), t * _pow2(jnp.clip(e1, {emin}, {emax})))
    tiny = (t * _pow2(jnp.clip(e1 + {d}, {emin}, {emax}))) * _pow2(jnp.full_like(e1, -{d}))
    y = jnp.where(e1 < {emin}, tiny, y)
    y = jnp.where(jnp.isfinite(a) & (a != 0), y, a)
    return jnp.where(jnp.isnan(k), a + k, y)
''',
}


def jax_helpers(code: str, mant_bits: int, bias: int) -> str:
    """For a carrier with ``mant_bits`` stored significand bits and exponent ``bias``
    (the module defines _F, _U, _UN for it)."""
    width = 1 + (2 * bias + 1).bit_length() + mant_bits   # sign, exponent, stored significand bits
    sign = 1 << (width - 1)
    fill = dict(m=mant_bits, bias=bias, emin=1 - bias, emax=bias, d=mant_bits + 3,
                sign=hex(sign), neginf=hex(sign | ((2 * bias + 1) << mant_bits)))
    return _closure(code, NAMES, lambda n: _JAX[n].strip("\n").format(**fill) + "\n"
                    if n in ("ldexp_", "select_") else _JAX[n].strip("\n") + "\n")


# ------------------------------------------------------------------ C
_C = {
    "rint_": ("/* half to even in the default rounding mode */\n"
              "static $T rint_($T a)\n{\n    return nearbyint$S(a);\n}\n"),
    "abs_": "static $T abs_($T a)\n{\n    return fabs$S(a);\n}\n",
    "copysign_": "static $T copysign_($T a, $T b)\n{\n    return isnan(b) ? a + b : copysign$S(a, b);\n}\n",
    "min_": ("/* NaN if either is NaN (unlike fmin); min(-0, +0) = -0 */\nstatic $T min_($T a, $T b)\n{\n"
             "    if (isnan(a) || isnan(b))\n        return a + b;\n    if (a != b)\n        return a < b ? a : b;\n"
             "    return signbit(a) ? a : b;\n}\n"),
    "max_": ("/* NaN if either is NaN (unlike fmax); max(-0, +0) = +0 */\nstatic $T max_($T a, $T b)\n{\n"
             "    if (isnan(a) || isnan(b))\n        return a + b;\n    if (a != b)\n        return a > b ? a : b;\n"
             "    return signbit(a) ? b : a;\n}\n"),
    "select_": ("/* a where s < 0, else b (s = -0, +0 and NaN give b): a compare and a blend */\n"
                "static $T select_($T s, $T a, $T b)\n{\n    return s < 0 ? a : b;\n}\n"),
    "pow2_": ("/* 2^trunc(a): from the exponent bits where it is a normal power, else ldexp(1, a) */\n"
              "static $T pow2_($T a)\n{\n    if (a >= $LO && a < $HI1) {\n"
              "        $U b = ($U)((int)a + $B) << $M;\n        $T r;\n"
              "        memcpy(&r, &b, sizeof r);\n        return r;\n    }\n    return ldexp_(1, a);\n}\n"),
    "exponent_": ("/* frexp's exponent: 0 at +-0 and +-inf, NaN at NaN */\n"
                  "static $T exponent_($T a)\n{\n    int e = 0;\n"
                  "    if (isnan(a))\n        return a;\n    if (isfinite(a))\n        (void)frexp$S(a, &e);\n"
                  "    return ($T)e;\n}\n"),
    "significand_": ("static $T significand_($T a)\n{\n    int e;\n"
                     "    return isfinite(a) ? frexp$S(a, &e) : a;\n}\n"),
    "ldexp_": ("/* a * 2^trunc(k), one rounding; k saturated at +-2200, NaN k gives NaN.  Where 2^trunc(k)\n"
               "   is a normal number, a times it built from exponent bits (one rounding of the exact product) */\n"
               "static $T ldexp_($T a, $T k)\n{\n    if (k >= $LO && k < $HI1) {\n"
               "        $U b = ($U)((int)k + $B) << $M;\n        $T s;\n"
               "        memcpy(&s, &b, sizeof s);\n        return a * s;\n    }\n"
               "    if (isnan(k))\n        return a + k;\n"
               "    return ldexp$S(a, (int)(k < -2200 ? -2200 : k > 2200 ? 2200 : k));\n}\n"),
}


def c_helpers(code: str, ctype: str) -> str:
    """For values of C type ``ctype`` (float: the f-suffixed libm functions)."""
    f32 = ctype == "float"
    fill = dict(T=ctype, S="f" if f32 else "", U="uint32_t" if f32 else "uint64_t", M=23 if f32 else 52,
                B=127 if f32 else 1023, LO="-126.0f" if f32 else "-1022.0", HI1="128.0f" if f32 else "1024.0")
    return _closure(code, NAMES, lambda n: Template(_C[n]).substitute(fill))
