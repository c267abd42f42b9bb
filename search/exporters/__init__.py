"""Exporters: a picked program as JAX, NumPy or C source, or as a SymPy / LaTeX
formula.  ``EXPORTERS`` maps the names the CLI uses to ``Exporter`` entries;
``export(program, fmt_name, to, header_comment)`` returns source text.

The code exporters (jax, numpy, c) reproduce the interpreter bit for bit in
the run's format (``real`` is exported with float64 semantics); see each
module for how, and for the limits (JAX: subnormals on XLA:CPU).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...primitives.registry import Registry

from .c import export_c
from .jax_ import export_jax
from .latex import export_latex
from .numpy_ import export_numpy
from .sympy_ import export_sympy, to_sympy


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str  # file name suffix for the source
    fn: Callable  # (program, fmt_name, header_comment, **options) -> str
    doc: str

    def __call__(self, program, fmt_name: str, header_comment: str = "", **options) -> str:
        return self.fn(program, fmt_name, header_comment, **options)


EXPORTERS: Registry[Exporter] = Registry("exporter")
EXPORTERS.register("jax", Exporter("jax", ".py", export_jax, "module with a jitted approx(x) (jax.numpy)"))
EXPORTERS.register("numpy", Exporter("numpy", ".py", export_numpy, "self-contained NumPy module with approx(x)"))
EXPORTERS.register("c", Exporter("c", ".c", export_c, "C99 function approx(x) (link with -lm; option name=)"))
EXPORTERS.register("sympy", Exporter("sympy", ".py", export_sympy, "Python source building the exact SymPy expression"))
EXPORTERS.register("latex", Exporter("latex", ".tex", export_latex, "LaTeX formula"))


def export(program, fmt_name: str, to: str, header_comment: str = "", **options) -> str:
    """Source text of ``program`` in format ``fmt_name`` for exporter ``to``;
    ``header_comment`` (e.g. the program text and its measured error) opens it
    as a comment.  Options: ``name`` (C function name, default ``approx``)."""
    return EXPORTERS[to](program, fmt_name, header_comment, **options)


__all__ = ["EXPORTERS", "Exporter", "export", "to_sympy"]
