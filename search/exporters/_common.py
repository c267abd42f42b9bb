"""Shared pieces of the exporters: the format a program is exported in, its
constants as the format rounds them, the live instructions, comments.

Semantics every code exporter reproduces bit for bit: constants are first
rounded to the format, the input is a value of the format and every
instruction rounds once (to nearest, ties to even).  ``real`` is exported
with float64 semantics.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ...primitives.formats import FORMATS, Format
from ...primitives.ops import OPS


def semantics(fmt_name: str) -> Format:
    """The format whose rounding the exported code has (``Format.hardware``:
    ``real`` -> float64); unknown names raise a KeyError listing the known ones."""
    return FORMATS[fmt_name].hardware


def arithmetic(fmt_name: str) -> str:
    """The arithmetic the code exported for ``fmt_name`` uses, in words."""
    if fmt_name == "real":
        return ("float64 arithmetic\n(the run's format is real, scored in double-double: for the most accurate\n"
                "programs float64 is less accurate, see the measured error; `numsearch export\n"
                "--arith dd` writes double-double code)")
    return f"{fmt_name} arithmetic"


def real_wrapper(op_name: str, lang: str) -> tuple[str, str]:
    """(argument list, body expression) of the double-double exporters'
    ``real_<op>``: the op's double-double function ``dd_<op>`` (NumPy: the
    interpreter's own, IEEE specials included; C: the textbook algorithm
    with the specials of ``real`` restored from the float64 result, the op's
    "f64" form).  ``lang``: "numpy" (pairs (hi, lo)) or "c" (``numsearch_dd``
    structs)."""
    op = OPS[op_name]
    names = "abc"[:op.arity]
    hi = (lambda a: f"{a}[0]") if lang == "numpy" else (lambda a: f"{a}.hi")
    naive = op.form("f64").format(*(hi(a) for a in names))
    if lang == "numpy":  # doubledouble's ops give the IEEE specials themselves, as the interpreter uses them
        args = ", ".join(names)
        return args, f"{op.dd.__name__}({args})"
    finite = " && ".join(f"isfinite({hi(a)})" for a in names)
    return ", ".join(f"numsearch_dd {a}" for a in names), f"dd_specials(dd_{op_name}({', '.join(names)}), {naive}, {finite})"


def rounded_consts(program, fmt: Format) -> list[float]:
    """The program's constants rounded to ``fmt``'s instruction format (what the interpreter uses)."""
    if not program.consts:
        return []
    return [float(c) for c in fmt.op_format.round(np.asarray(program.consts, dtype=np.float64))]


def live(program) -> list[int]:
    """Indices of the instructions the output depends on, in order."""
    need: set[int] = set()
    stack = [program.out]
    while stack:
        r = stack.pop()
        if r[0] == "v" and int(r[1:]) not in need:
            need.add(int(r[1:]))
            stack.extend(program.instrs[int(r[1:])].args)
    return sorted(need)


def live_consts(program) -> list[int]:
    used = {a for k in live(program) for a in program.instrs[k].args}
    used.add(program.out)
    return [i for i in range(len(program.consts)) if f"c{i}" in used]


def render(program, lang: str, ref) -> list[tuple[int, str]]:
    """(k, expression) for each live instruction: the op's template for
    ``lang`` with each argument reference mapped through ``ref``."""
    out = []
    for k in live(program):
        ins = program.instrs[k]
        out.append((k, OPS[ins.op].form(lang).format(*(ref(a) for a in ins.args))))
    return out


def render_real(program, ref) -> list[tuple[int, str]]:
    """(k, expression) for each live instruction as a call of the double-double
    exporters' ``real_<op>`` (see ``real_wrapper``), arguments mapped through ``ref``."""
    return [(k, f"real_{program.instrs[k].op}({', '.join(ref(a) for a in program.instrs[k].args)})")
            for k in live(program)]


def uses_x(program) -> bool:
    return program.out == "x" or any("x" in program.instrs[k].args for k in live(program))


def decimal(v: float) -> str:
    """17 significant digits (enough to identify a float64)."""
    if math.isnan(v) or math.isinf(v):
        return repr(v)
    return f"{v:.17g}"


def comment(text: str, prefix: str) -> str:
    """``text`` as line comments (empty string if no text)."""
    if not text.strip():
        return ""
    return "\n".join((prefix + " " + line).rstrip() for line in text.strip("\n").splitlines()) + "\n"


def helpers_used(code: str, names) -> list[str]:
    return [n for n in names if re.search(r"\b" + re.escape(n) + r"\(", code)]
