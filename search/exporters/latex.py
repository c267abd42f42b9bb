"""LaTeX exporter: the program as a formula built from each op's ``latex``
template.  Constants (rounded to the run's format) show as 17-digit decimals,
their exact hex values in ``%`` comments; a temporary used more than once gets
its own line so the formula does not repeat it."""
from __future__ import annotations

import math
from collections import Counter

from ...primitives.ops import OPS

from ._common import comment, live, live_consts, rounded_consts, semantics


def latex_number(v: float) -> str:
    """17 significant digits, exponent as a power of ten; negatives parenthesised."""
    if math.isnan(v):
        return r"\mathrm{NaN}"
    if math.isinf(v):
        return r"\infty" if v > 0 else r"\left(-\infty\right)"
    mant, _, exp = f"{v:.17g}".partition("e")
    s = mant + (rf" \times 10^{{{int(exp)}}}" if exp else "")
    return rf"\left({s}\right)" if v < 0 else s


def export_latex(program, fmt_name: str, header_comment: str = "") -> str:
    consts = rounded_consts(program, semantics(fmt_name))
    uses = Counter(a for k in live(program) for a in program.instrs[k].args)
    text: dict[str, str] = {"x": "x"}
    text.update({f"c{i}": latex_number(c) for i, c in enumerate(consts)})
    lines = []
    for k in live(program):
        ins = program.instrs[k]
        e = OPS[ins.op].latex.format(*(text[a] for a in ins.args))
        if uses[f"v{k}"] > 1 and f"v{k}" != program.out:
            lines.append(rf"v_{{{k}}} &= {e}")
            e = f"v_{{{k}}}"
        text[f"v{k}"] = e
    formula = f"f(x) = {text[program.out]}"
    if lines:
        formula = "\\begin{aligned}\n" + " \\\\\n".join(lines + ["f(x) &= " + text[program.out]]) + "\n\\end{aligned}"
    notes = "".join(f"c{i} = {consts[i].hex()} = {consts[i]!r}\n" for i in live_consts(program))
    return comment(header_comment, "%") + comment(f"numsearch export ({fmt_name} constants):\n" + notes, "%") + formula + "\n"
