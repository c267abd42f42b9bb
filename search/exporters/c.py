"""C99 exporter: ``float approx(float x)`` (``double`` for float64 / real).

float32 and float64 compute natively (``fmaf`` / ``fma``).  Narrower formats
carry values in float; each instruction is computed in double (+ - * / are
exact or innocuously rounded there; fma is rounded to odd) and rounded once to
the format by ``rnd_``.  Compile in an ISO mode (``-std=c99``) or with
``-ffp-contract=off``: GNU modes let gcc fuse a*b + c into an fma; the file
also turns contraction off by pragma for gcc and clang.  Assumes
FLT_EVAL_METHOD == 0 (SSE2, AArch64), the default rounding mode and no
flush-to-zero (do not build with -ffast-math).
"""
from __future__ import annotations

import math

from ...primitives.formats import Format

from ._common import arithmetic, comment, decimal, helpers_used, live_consts, render, rounded_consts, semantics, uses_x
from ._reduction import c_helpers

_PRAGMA = """#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize ("fp-contract=off")
#endif
"""

_FMA_ODD = """
/* a*b + c rounded to odd in double (a*b is exact): rnd_ then rounds once, correctly */
static double fma_(double a, double b, double c)
{
    double p = a * b, s = p + c, bb = s - p, e = (p - (s - bb)) + (c - bb);
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    if (e != 0.0 && isfinite(s) && !(bits & 1u))
        s = nextafter(s, e > 0.0 ? INFINITY : -INFINITY);
    return s;
}
"""


def _literal(v: float, ctype: str) -> str:
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return v.hex() + ("f" if ctype == "float" else "")


_RND_BF16 = """
/* round a float to bfloat16 (nearest, ties to even) on its bits: bfloat16 has
   float's exponent range, so subnormals and overflow to inf come out right */
static float rnd_(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    if ((b & 0x7FFFFFFFu) > 0x7F800000u)
        return v;
    b = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u;
    memcpy(&v, &b, sizeof v);
    return v;
}
"""


def _rnd_src(fmt: Format) -> str:
    over = "(float)copysign(INFINITY, v)" if fmt.has_inf else "NAN"
    inf = "(float)v" if fmt.has_inf else "NAN"
    return f"""
/* round to {fmt.name} ({fmt.precision}-bit significand, min normal 2^{fmt.emin},
   max {decimal(fmt.max_finite)}): nearest, ties to even, subnormals, {'overflow to inf' if fmt.has_inf else 'NaN on overflow (no inf)'} */
static float rnd_(double v)
{{
    int e;
    double r;
    if (isnan(v) || v == 0.0)
        return (float)v;
    if (isinf(v))
        return {inf};
    e = ilogb(v);
    if (e < {fmt.emin})
        e = {fmt.emin};
    r = ldexp(nearbyint(ldexp(v, {fmt.precision - 1} - e)), e - {fmt.precision - 1});
    return fabs(r) > {fmt.max_finite.hex()} ? {over} : (float)r;
}}
"""


def export_c(program, fmt_name: str, header_comment: str = "", name: str = "approx") -> str:
    fmt = semantics(fmt_name)
    opf = fmt.op_format   # what every instruction rounds to (a mixed format's compute format)
    narrow = opf.name not in ("float32", "float64")
    ctype = "double" if opf.name == "float64" else "float"
    ktype = "double" if narrow else ctype  # the type constants and arithmetic use
    consts = rounded_consts(program, fmt)

    def ref(r):
        if r[0] == "c":
            return r
        return f"(double){r}" if narrow else r

    lines = [f"    const {ktype} c{i} = {_literal(consts[i], ktype)};  /* {decimal(consts[i])} */"
             for i in live_consts(program)]
    for k, e in render(program, "c", ref):
        lines.append(f"    {ctype} v{k} = {'rnd_(' + e + ')' if narrow else e};")
    out = program.out
    if out[0] == "c" and narrow:
        out = f"(float){out}"
    if fmt.compute:   # mixed: the float result rounded once more, to the output format
        out = f"rnd_({out})"
    body = "\n".join(lines)
    helpers = ""
    includes = "#include <math.h>\n"
    if helpers_used(body, ["fma_"]):
        if narrow:
            helpers += _FMA_ODD
            includes += "#include <stdint.h>\n#include <string.h>\n"
        else:
            f = "fma" if ctype == "double" else "fmaf"
            helpers += f"\nstatic {ctype} fma_({ctype} a, {ctype} b, {ctype} c)\n{{\n    return {f}(a, b, c);\n}}\n"
    helpers += c_helpers(body, ktype)
    if "memcpy(" in helpers and "<string.h>" not in includes:
        includes += "#include <stdint.h>\n#include <string.h>\n"
    if (narrow or fmt.compute) and helpers_used(body + out, ["rnd_"]):
        if fmt.compute and opf.name == "float32" and (fmt.precision, fmt.emin, fmt.has_inf) == (8, -126, True):
            helpers += _RND_BF16   # float -> bfloat16 on the bits (same exponent range)
            if "<string.h>" not in includes:
                includes += "#include <stdint.h>\n#include <string.h>\n"
        else:
            helpers += _rnd_src(fmt if fmt.compute else opf)
    note = (f"numsearch export (C99): {name}() in {arithmetic(fmt_name)}.\n"
            + f"Every instruction is rounded once to {opf.name} (nearest, ties to even); constants\n"
            + f"are {opf.name} values" + (", carried in float; ops run in double, then rnd_().\n" if narrow else ".\n")
            + (f"The result is rounded once more, to {fmt.name} (rnd_), and returned in a float.\n"
               if fmt.compute else "")
            + "Build: cc -O2 -std=c99 file.c -lm (or -ffp-contract=off: a*b + c must not be\n"
            + "fused); never -ffast-math. Assumes FLT_EVAL_METHOD == 0 (x86-64, AArch64).")
    head = (header_comment.strip("\n") + "\n\n" if header_comment.strip() else "") + note
    head = "/*\n" + comment(head.replace("*/", "* /"), " *") + " */\n"
    if not uses_x(program):
        body += "\n    (void)x;"
    return (head + includes + _PRAGMA + helpers + f"\n{ctype} {name}({ctype} x)\n{{\n"
            + (body + "\n" if body else "") + f"    return {out};\n}}\n")
