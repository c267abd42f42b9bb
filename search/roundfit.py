"""Constants as values of the format: a search over the lattice of format
values around the rounded fit.

The fitter finds real constants; rounding each to the format (the compute
format of a mixed one) moves the program off its optimum, by far more than
the fit's own error for narrow formats and in ULP-scored kernels.
``refine_rounded`` takes the rounded program and walks its constants over
neighbouring format values, one constant at a time (steps of 1, 2, 8 and 32
values, each way), keeping a step only if the program's error, scored after
the rounding and by the caller's own scoring function, goes down; it stops
at a pass without gain or after ``max_evals`` scorings.  Greedy and local
(fpminimax's lattice methods are global for polynomials; this works on any
program): it cannot make a program worse.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..evaluators.fpminimax import next_value
from ..primitives.formats import Format

STEPS = (1, -1, 2, -2, 8, -8, 32, -32)


def step_value(c: float, k: int, fmt: Format) -> float:
    """The format value k values above (k < 0: below) the format value c."""
    for _ in range(abs(k)):
        c = next_value(c, k > 0, fmt)
        if not np.isfinite(c):
            break
    return c


def refine_rounded(prog, score: Callable[[object], float], fmt: Format, max_evals: int,
                   err: float | None = None) -> tuple[object, float, int]:
    """(program, its score, scorings spent): ``prog``'s constants (values of
    ``fmt``) moved over the lattice of ``fmt`` values while ``score`` falls."""
    cs = [float(c) for c in prog.consts]
    err = score(prog) if err is None else err
    evals = 0
    improved = True
    while improved and evals < max_evals:
        improved = False
        for i in range(len(cs)):
            for k in STEPS:
                if evals >= max_evals:
                    break
                c = step_value(cs[i], k, fmt)
                if not np.isfinite(c) or c == cs[i]:
                    continue
                trial = prog.with_consts(tuple(cs[:i] + [c] + cs[i + 1:]))
                e = score(trial)
                evals += 1
                if e < err:
                    cs[i], err, prog, improved = c, e, trial, True
                    break     # this constant moved: on to the next one
    return prog, err, evals
