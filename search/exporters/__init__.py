"""Exporters: a picked program as JAX, NumPy or C source, or as a SymPy / LaTeX
formula.  ``EXPORTERS`` maps the names the CLI uses to ``Exporter`` entries;
``export(program, fmt_name, to, header_comment)`` returns source text.

``jax`` is the code to run: plain jax.numpy that XLA compiles well
(``jax_fast.py``; ``Exporter.exact`` False), the code a run times, checked by
the exhaustive check of its compiled function; ``jax_fast`` is its former
name, still accepted.  The other code exporters (jax_exact, numpy, c)
reproduce the interpreter bit for bit in the run's format (``real`` is
exported with float64 semantics); see each module for how, and for the
limits (JAX: subnormals on XLA:CPU).  For
``real`` programs, ``arith="dd"`` (c and numpy: ``Exporter.dd``) writes
double-double code instead, as accurate as the figure the search scored
(``numpy_dd``, ``c_dd``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...primitives.registry import Registry

from .c import export_c
from .c_dd import export_c_dd
from .jax_ import export_jax
from .jax_fast import export_jax_fast
from .latex import export_latex
from .numpy_ import export_numpy
from .numpy_dd import export_numpy_dd
from .sympy_ import export_sympy, to_sympy


ARITHS = ("native", "dd")  # the run's format (float64 for real) | double-double (real programs)


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str  # file name suffix for the source
    fn: Callable  # (program, fmt_name, header_comment, **options) -> str
    doc: str
    dd: Callable | None = None  # (program, header_comment, **options) -> str: double-double code for real
    formula: bool = False  # an exact formula (no arithmetic), not code
    exact: bool = True  # code: bit for bit the interpreter (jax_fast: no; its figure is its own check)

    def __call__(self, program, fmt_name: str, header_comment: str = "", arith: str = "native", **options) -> str:
        self.check(fmt_name, arith)
        if arith == "native":
            return self.fn(program, fmt_name, header_comment, **options)
        return self.dd(program, header_comment, **options)

    def check(self, fmt_name: str, arith: str) -> None:
        """ValueError (saying why) unless this exporter writes ``arith`` code for ``fmt_name``."""
        if arith == "native":
            return
        if arith not in ARITHS:
            raise ValueError(f"unknown arithmetic {arith!r} (known: {', '.join(ARITHS)})")
        if self.dd is None:
            raise ValueError(f"the {self.name} exporter has no double-double mode (those that have: "
                             f"{', '.join(n for n, e in EXPORTERS.items() if e.dd is not None)})")
        if fmt_name != "real":
            raise ValueError(f"double-double export is for real programs, not {fmt_name}")


EXPORTERS: Registry[Exporter] = Registry("exporter")
EXPORTERS.register("jax", Exporter("jax", ".py", export_jax_fast,
                                   "fast jitted approx(x): plain jax.numpy, the code a run times; not bit-exact, "
                                   "its figure is the exhaustive check of the compiled function (option measured=)",
                                   exact=False))
EXPORTERS.register("jax_exact", Exporter("jax_exact", ".py", export_jax,
                                         "jitted approx(x) bit for bit the interpreter's (slow: fma emulated, "
                                         "every instruction behind a barrier)"))
EXPORTERS.register("jax_fast", Exporter("jax_fast", ".py", export_jax_fast, "the jax exporter's former name",
                                        exact=False))
EXPORTERS.register("numpy", Exporter("numpy", ".py", export_numpy, "self-contained NumPy module with approx(x)",
                                     dd=export_numpy_dd))
EXPORTERS.register("c", Exporter("c", ".c", export_c, "C99 function approx(x) (link with -lm; option name=)",
                                 dd=export_c_dd))
EXPORTERS.register("sympy", Exporter("sympy", ".py", export_sympy, "Python source building the exact SymPy expression",
                                     formula=True))
EXPORTERS.register("latex", Exporter("latex", ".tex", export_latex, "LaTeX formula", formula=True))


def export(program, fmt_name: str, to: str, header_comment: str = "", arith: str = "native", **options) -> str:
    """Source text of ``program`` in format ``fmt_name`` for exporter ``to``;
    ``header_comment`` (e.g. the program text and its measured error) opens it
    as a comment.  ``arith``: "native" (the run's format; float64 for real) or
    "dd" (double-double, real programs, exporters with ``dd``).  Options:
    ``name`` (C function name, default ``approx``)."""
    return EXPORTERS[to](program, fmt_name, header_comment, arith, **options)


def fast_jax(to: str) -> bool:
    """Whether exporter ``to`` writes the fast JAX code (``jax``, or ``jax_fast``, its former name)."""
    return to in EXPORTERS and EXPORTERS[to].fn is export_jax_fast


__all__ = ["ARITHS", "EXPORTERS", "Exporter", "export", "fast_jax", "to_sympy"]
