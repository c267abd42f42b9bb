"""The task a run scores against, and its data.

``Task`` (frozen, small, picklable) says what to approximate and how to score:
target, interval, format, metric, cost model and grid sizes.  ``TaskData``
holds its arrays (grids rounded to the format, mpmath references and
metric weights), built once per process.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..primitives.formats import FORMATS
from ..primitives.kernels import evaluate, evaluate_float

from .accuracy import METRICS, max_error
from .reference import reference, sample_grid
from .targets import Target
from .values import OrderedValues


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
    binades: bool = False             # grids also spread evenly over the format's values in
                                      # order (every binade; for whole-domain targets)
    whole: bool = False               # [lo, hi] is the whole domain (domain.whole_domain): grids
                                      # also hold inputs beyond it, where f overflows or underflows
    beyond: bool = True               # whole domain: the grids hold the inputs beyond it (the program
                                      # must saturate there); False: inputs are promised in [lo, hi]
                                      # (a run's speed.inputs: domain)
    hash_ops: bool = False            # programs of one function but different op multisets are
                                      # distinct (speed ranks them: a correctly rounded exp is one
                                      # function however it is computed)

    @property
    def fmt(self):
        return FORMATS[self.format]

    @property
    def hash_format(self) -> str:
        return self.fmt.hardware.name

    def describe(self) -> str:
        return f"{self.target} on [{self.lo:g}, {self.hi:g}], {self.format}, {self.metric} error"


def beyond(fmt, lo: float, hi: float) -> np.ndarray:
    """Inputs past the ends of a whole domain (where f overflows, underflows
    or is undefined): the next values of the format, a few larger steps out,
    the largest finite values and the infinities."""
    ov = OrderedValues(fmt)
    out = []
    for end, sign in ((hi, 1.0), (lo, -1.0)):
        if abs(end) >= fmt.max_finite:
            continue
        k = ov.key(end)
        out += [ov.value(k + int(sign) * i) for i in (1, 2, 3)]
        out += [end + sign * abs(end) * f for f in (1e-3, 1e-2, 0.1, 1.0, 10.0)]
        out += [sign * fmt.max_finite, sign * np.inf]
    x = fmt.round(np.array(out, dtype=np.float64))
    return np.unique(x[(x > hi) | (x < lo)])


def _saturated(ref: tuple, fmt) -> tuple:
    """The reference (hi, lo) with values that overflow the format set to its
    infinity: a program that overflows there is right."""
    hi, lo = ref
    with np.errstate(over="ignore"):
        over = np.isinf(fmt.hardware.round(hi)) & np.isfinite(hi)
    if over.any():
        hi, lo = np.where(over, np.copysign(np.inf, hi), hi), np.where(over, 0.0, lo)
    return hi, lo


class TaskData:
    """Arrays of a task: fit grid, scoring grid, references, weights."""

    def __init__(self, task: Task, points: int | None = None):
        self.task = task
        t = Target(task.target)
        fmt = task.fmt
        metric = METRICS[task.metric]
        self.x_fit = self._grid(task.fit_points, outside=False)   # fitting needs finite values
        self.x = self._grid(points or task.score_points)
        self.ref_fit = _saturated(reference(t, self.x_fit), fmt)
        self.ref = _saturated(reference(t, self.x), fmt)
        self.w_fit = metric.weight(self.ref_fit[0], fmt)
        self.w = metric.weight(self.ref[0], fmt)

    def _grid(self, n: int, outside: bool = True) -> np.ndarray:
        """n points of the interval (``reference.sample_grid``), and with
        ``binades`` n/2 more spread evenly over the format's values in order;
        for a ``whole`` domain (and ``outside``, unless the task's inputs are
        promised in it: ``beyond`` False) the inputs ``beyond`` it."""
        t = self.task
        x = sample_grid(t.fmt, t.lo, t.hi, n)
        if t.binades:
            x = np.union1d(x, OrderedValues(t.fmt.hardware).spread(t.lo, t.hi, n // 2))
        if t.whole and t.beyond and outside:
            x = np.union1d(x, beyond(t.fmt.hardware, t.lo, t.hi))
        return x

    @cached_property
    def verify(self) -> "TaskData":
        return TaskData(self.task, self.task.verify_points)

    def error(self, prog, fmt: str | None = None, to_float64: bool = False) -> float:
        """Max error of prog on this data's grid, evaluated in ``fmt`` (default:
        the task's format).  ``to_float64``: the result (a double-double for
        ``real``) is rounded to float64 first, as code that returns a double does.
        For a ``real`` task, ``error(prog, "float64")`` is the error of the
        float64 code the exporters write, ``error(prog, to_float64=True)`` that of
        the double-double export's ``approx()``."""
        y = (evaluate_float if to_float64 else evaluate)(prog, self.x, fmt or self.task.fmt)
        return max_error(y, self.ref, self.w)
