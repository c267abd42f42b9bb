"""C99 exporter in double-double (``--arith dd``) for ``real`` programs:
``void approx_dd(double x, double *hi, double *lo)`` and ``double approx(double x)``
(hi + lo rounded to double).

The double-double operations are those of ``primitives/doubledouble.py``,
operation for operation, except that the exact product uses ``fma`` (the
error of a*b is fma(a, b, -a*b)) where the interpreter uses Dekker's split.
Both are exact unless a value on the way is beyond about 2^995 in magnitude
(Dekker's split overflows) or a product falls below about 2^-969 (its error
underflows), so the export reproduces the interpreter's ``real`` results bit
for bit, hi and lo, wherever every value on the way lies in [2^-700, 2^700] or
is zero or not finite (tested over every op); beyond that it is the more
accurate of the two.  IEEE specials as ``real``: where an argument's hi or the
float64 result is not finite, the result is the float64 one.

The helpers sit behind an include guard, so several exported functions can
share one file.  Build with contraction off (``-std=c99``, or the pragma the
file carries) and never with -ffast-math; ``-march=native`` (or ``-mfma``)
makes ``fma`` one instruction instead of a library call.
"""
from __future__ import annotations

from ...primitives.ops import OPS

from ._common import comment, decimal, live_consts, real_wrapper, render_real, uses_x
from .c import _PRAGMA, _literal

# each op's double-double function, in C: the same operations, in the same
# order, as its ``dd`` in primitives/doubledouble.py
DD_C = {
    "add": """numsearch_dd s = dd_two_sum(a.hi, b.hi), t = dd_two_sum(a.lo, b.lo);
    s = dd_fast_two_sum(s.hi, s.lo + t.hi);
    return dd_fast_two_sum(s.hi, s.lo + t.lo);""",
    "neg": """numsearch_dd r = {-a.hi, -a.lo};
    return r;""",
    "sub": """return dd_add(a, dd_neg(b));""",
    "mul": """numsearch_dd p = dd_two_prod(a.hi, b.hi);
    return dd_fast_two_sum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));""",
    "div": """double q1 = a.hi / b.hi, q2, q3;
    numsearch_dd r = dd_sub(a, dd_mul_d(b, q1)), q;
    q2 = r.hi / b.hi;
    r = dd_sub(r, dd_mul_d(b, q2));
    q3 = r.hi / b.hi;
    q = dd_fast_two_sum(q1, q2);
    r.hi = q3;
    r.lo = 0.0;
    return dd_add(q, r);""",
    "fma": """return dd_add(dd_mul(a, b), c);""",
}
_ORDER = ["add", "neg", "sub", "mul", "div", "fma"]  # callees first

_BASE = """
#ifndef NUMSEARCH_DD_ARITHMETIC
#define NUMSEARCH_DD_ARITHMETIC
/* double-double: hi + lo, |lo| <= ulp(hi)/2 (numsearch primitives/doubledouble.py) */
typedef struct { double hi, lo; } numsearch_dd;

static inline numsearch_dd dd_two_sum(double a, double b)  /* s + e == a + b exactly */
{
    numsearch_dd r;
    double bb;
    r.hi = a + b;
    bb = r.hi - a;
    r.lo = (a - (r.hi - bb)) + (b - bb);
    return r;
}

static inline numsearch_dd dd_fast_two_sum(double a, double b)  /* |a| >= |b| or a == 0 */
{
    numsearch_dd r;
    r.hi = a + b;
    r.lo = b - (r.hi - a);
    return r;
}

static inline numsearch_dd dd_two_prod(double a, double b)  /* p + e == a * b exactly */
{
    numsearch_dd r;
    r.hi = a * b;
    r.lo = fma(a, b, -r.hi);
    return r;
}

static inline numsearch_dd dd_specials(numsearch_dd r, double naive, int finite_args)
{
    /* real's IEEE specials: where an argument or the float64 result is not finite */
    if (!(finite_args && isfinite(naive))) {
        r.hi = naive;
        r.lo = 0.0;
    }
    return r;
}
"""

_MUL_D = """
static inline numsearch_dd dd_mul_d(numsearch_dd a, double d)
{
    numsearch_dd p = dd_two_prod(a.hi, d);
    return dd_fast_two_sum(p.hi, p.lo + a.lo * d);
}
"""


def _arithmetic() -> str:
    src = _BASE + _MUL_D
    for op in _ORDER + [o for o in DD_C if o not in _ORDER]:
        args = ", ".join(f"numsearch_dd {a}" for a in "abc"[:OPS[op].arity])
        src += f"\nstatic inline numsearch_dd dd_{op}({args})\n{{\n    {DD_C[op]}\n}}\n"
    for op in DD_C:
        params, body = real_wrapper(op, "c")
        src += f"\nstatic inline numsearch_dd real_{op}({params})\n{{\n    return {body};\n}}\n"
    return src + "#endif\n"


def export_c_dd(program, header_comment: str = "", name: str = "approx") -> str:
    missing = sorted({ins.op for ins in program.instrs} - set(DD_C))
    if missing:
        raise ValueError(f"the C double-double export has no form for op(s) {', '.join(missing)} "
                         f"(it has: {', '.join(DD_C)}; the NumPy one has every op)")
    consts = program.consts

    def ref(r):
        return "X" if r == "x" else r

    lines = [f"    const numsearch_dd X = {{x, 0.0}};"] if uses_x(program) else ["    (void)x;"]
    lines += [f"    const numsearch_dd c{i} = {{{_literal(consts[i], 'double')}, 0.0}};  /* {decimal(consts[i])} */"
              for i in live_consts(program)]
    lines += [f"    numsearch_dd v{k} = {e};" for k, e in render_real(program, ref)]
    out = ref(program.out)
    note = (f"numsearch export (C99): {name}() in double-double arithmetic (the run's format real,\n"
            f"as the search scored it). {name}_dd(x, &hi, &lo) gives hi + lo, the program's value to\n"
            "about 106 bits (numsearch's real interpreter, bit for bit away from over/underflow);\n"
            f"{name}(x) returns hi + lo rounded to double. Exact products by fma().\n"
            "Build: cc -O2 -std=c99 file.c -lm (-march=native or -mfma: fma in hardware); never\n"
            "-ffast-math. Assumes FLT_EVAL_METHOD == 0 (x86-64, AArch64).")
    head = (header_comment.strip("\n") + "\n\n" if header_comment.strip() else "") + note
    head = "/*\n" + comment(head.replace("*/", "* /"), " *") + " */\n"
    return (head + "#include <math.h>\n" + _PRAGMA + _arithmetic()
            + f"\nvoid {name}_dd(double x, double *hi, double *lo)\n{{\n" + "\n".join(lines) + "\n"
            + f"    *hi = {out}.hi;\n    *lo = {out}.lo;\n}}\n"
            + f"\ndouble {name}(double x)\n{{\n    double hi, lo;\n    {name}_dd(x, &hi, &lo);\n    return hi + lo;\n}}\n")
