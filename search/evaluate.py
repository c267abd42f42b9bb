"""The evaluation problem of a run and the evaluator of candidate programs.

``Task`` (frozen, small, picklable) says what to approximate and how to score;
``TaskData`` holds its arrays (grids, mpmath references, metric weights),
built once per process.  ``Evaluator.evaluate`` fits each candidate's
constants, rounds them to the run's format, and scores the program in that
format on the scoring grid.  Pure: no Ray here (see ``ray_driver``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..evaluators.accuracy import METRICS, max_error
from ..evaluators.cost import COST_MODELS
from ..evaluators.reference import reference, sample_grid
from ..evaluators.targets import Target
from ..primitives.formats import FORMATS
from ..primitives.interpret import evaluate

from .chain import chain_start
from .fhash import functional_hash, probe_points
from .fitting import FitConfig, fit_constants, polish


POLISH_FACTOR = 4.0


@dataclass(frozen=True)
class Task:
    target: str
    lo: float
    hi: float
    format: str = "real"
    metric: str = "relative"
    cost_model: str = "ops"
    cost_weights: tuple = ()          # ((op, weight), ...)
    fit_points: int = 256
    score_points: int = 1024
    verify_points: int = 20000
    fit: FitConfig = field(default_factory=FitConfig)

    @property
    def fmt(self):
        return FORMATS[self.format]

    @property
    def hash_format(self) -> str:
        return "float64" if self.format == "real" else self.format

    def describe(self) -> str:
        return f"{self.target} on [{self.lo:g}, {self.hi:g}], {self.format}, {self.metric} error"


class TaskData:
    """Arrays of a task: fit grid, scoring grid, references, weights, probes."""

    def __init__(self, task: Task, points: int | None = None):
        self.task = task
        t = Target(task.target)
        fmt = task.fmt
        metric = METRICS[task.metric]
        self.x_fit = sample_grid(fmt, task.lo, task.hi, task.fit_points)
        self.x = sample_grid(fmt, task.lo, task.hi, points or task.score_points)
        self.ref_fit = reference(t, self.x_fit)
        self.ref = reference(t, self.x)
        self.w_fit = metric.weight(self.ref_fit[0], fmt)
        self.w = metric.weight(self.ref[0], fmt)
        self.probes = probe_points(task.lo, task.hi)

    @cached_property
    def verify(self) -> "TaskData":
        return TaskData(self.task, self.task.verify_points)

    def error(self, prog) -> float:
        """Max error of prog in the task's format on this data's grid."""
        return max_error(evaluate(prog, self.x, self.task.fmt), self.ref, self.w)


@dataclass(frozen=True)
class Result:
    program: object        # the fitted, simplified Program
    error: float           # max error on the scoring grid, in the run's format
    cost: float
    ops: int
    hash: str              # functional hash of the fitted program


class Evaluator:
    def __init__(self, task: Task, seed: int = 0):
        self.task = task
        self.data = TaskData(task)
        self.rng = np.random.default_rng(seed)
        self.weights = dict(task.cost_weights)
        self.cost_fn = COST_MODELS[task.cost_model]
        self.positive = bool(np.all(self.data.ref_fit[0] > 0))   # squared chains need f > 0

    def evaluate_one(self, prog, bests: dict | None = None) -> Result:
        """Fit and score one program.  The SLP minimax polish (the costly part)
        is given only to programs whose least-squares/Lawson fit comes within
        ``POLISH_FACTOR`` of the best error known at their cost (``bests``);
        with no ``bests`` every program is polished."""
        d, fmt = self.data, self.task.fmt
        cost = self.cost_fn(prog, self.weights)
        if prog.consts:
            fx = (d.x_fit, d.ref_fit[0], d.w_fit)
            start = self._chain_start(prog)
            c, e = fit_constants(prog, fx, d.ref_fit, self.rng, self.task.fit, polish=False,
                                 extra_starts=() if start is None else (start,))
            best = None if bests is None else bests.get(cost)
            if best is None or e <= POLISH_FACTOR * best:
                c, _ = polish(prog.with_consts(c), fx, d.ref_fit, self.task.fit)
            prog = prog.with_consts(fmt.round(np.asarray(c)) if not fmt.is_real else c)
        err = d.error(prog)
        return Result(prog, err, cost, prog.ops, functional_hash(prog, d.probes, self.task.hash_format))

    def _chain_start(self, prog):
        t = self.task
        return chain_start(prog, t.target, t.lo, t.hi, t.metric != "absolute", self.positive)

    def evaluate(self, programs, bests: dict | None = None) -> list[Result]:
        return [self.evaluate_one(p, bests) for p in programs]
