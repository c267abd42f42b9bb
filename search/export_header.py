"""What an exported file says about itself: the task, the program, and the
measured error of the code written, in the arithmetic that code uses.

For ``real`` programs (scored in double-double) the code exporters write
float64 code by default, whose error is front.json's ``error_float64``
(measured here on the front's dense grid when an older front.json lacks it);
``--arith dd`` writes double-double code, whose ``approx()`` rounds the
double-double value to float64 (measured here on the same grid).  Formulas
(SymPy, LaTeX) are exact: their figure is the double-double one.
"""
from __future__ import annotations

from ..evaluators.task import TaskData
from ..primitives.program import parse_program

from .exporters import EXPORTERS
from .pareto import task_of


def _e(v) -> str:
    return v if isinstance(v, str) else format(v, ".6e")


def _measure(doc: dict, row: dict, **how) -> float:
    """The row's program on the front's dense grid (as front.json's figures)."""
    data = TaskData(task_of(doc), int(doc.get("verify_points", 20000)))
    return data.error(parse_program(row["program"]), **how)


def export_header(doc: dict, row: dict, to: str, arith: str = "native") -> tuple[str, object]:
    """(header comment, the max error of the code written in the run's metric)."""
    lo, hi = doc["interval"]
    m, grid = doc["metric"], f"dense grid of {doc.get('verify_points', '?')} points"
    size = f"cost {row['cost']:g}, {row['ops']} ops"
    lines = [f"numsearch: {doc['target']} on [{lo!r}, {hi!r}], format {doc['format']}"]
    if doc["format"] != "real":
        code_error = row["error"]
        ulp = (f", max {row['max_ulp']:.4g} ulp ({row.get('ulp_format')})"
               if isinstance(row.get("max_ulp"), float) else "")
        lines.append(f"max {m} error {_e(code_error)} ({grid}), {size}{ulp}")
    elif arith == "dd":
        code_error = _measure(doc, row, to_float64=True)
        lines += [f"this code computes in double-double: max {m} error {_e(code_error)} of approx() (its",
                  f"double-double value rounded to float64), {_e(row['error'])} of approx_dd()'s hi + lo,",
                  f"as the search scored it ({grid}); {size}"]
    else:
        recorded = row.get("error_float64")
        e64 = recorded if recorded is not None else _measure(doc, row, fmt="float64")
        if EXPORTERS[to].formula:
            code_error = row["error"]
            lines += [f"an exact formula: max {m} error {_e(code_error)} of its value (evaluated in double-double,",
                      f"{grid}); evaluated in float64 arithmetic {_e(e64)}; {size}"]
        else:
            code_error = e64
            lines += [f"this code computes in float64: max {m} error {_e(e64)} ({grid}), {size}",
                      f"(the program in double-double, as the search scored it: {_e(row['error'])};",
                      "`numsearch export --arith dd` writes double-double code that keeps it)"]
        if recorded is None:
            lines.append("(the float64 figure was measured at export: front.json predates error_float64)")
    if not EXPORTERS[to].exact:
        lines.append(f"(the program's figures, in the interpreter: this {to} code is not bit-exact with it)")
    return "\n".join(lines + ["", "program:", row["program"]]), code_error
