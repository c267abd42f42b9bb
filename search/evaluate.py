"""The evaluator of candidate programs (the task itself: ``evaluators.task``).

``Evaluator.evaluate`` fits each candidate's
constants, rounds them to the run's format (to its compute format, for a
mixed one; the program's own constants, rounded, are kept instead if they
score better: the fit does not see rounding), for a
hardware format near the front moves them over
neighbouring format values while the score falls (``roundfit``), and scores
the program in that format on the scoring grid.  Pure: no Ray here (see ``ray_driver``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..evaluators.cost import COST_MODELS
from ..evaluators.task import Task, TaskData

from .chain import chain_start, schain_start
from .fhash import functional_hash, probe_points
from .fitting import FitConfig, fit_constants, polish, trust_fit
from .roundfit import refine_rounded


POLISH_FACTOR = 4.0


@dataclass(frozen=True)
class Result:
    program: object        # the fitted, simplified Program
    error: float           # max error on the scoring grid, in the run's format
    cost: float
    ops: int
    hash: str              # functional hash of the fitted program


class Evaluator:
    def __init__(self, task: Task, seed: int = 0, fit: FitConfig = FitConfig()):
        self.task = task
        self.fit = fit
        self.data = TaskData(task)
        self.probes = probe_points(task.lo, task.hi)
        self.rng = np.random.default_rng(seed)
        self.weights = dict(task.cost_weights)
        self.cost_fn = COST_MODELS[task.cost_model]
        self.positive = bool(np.all(self.data.ref_fit[0] > 0))   # squared chains need f > 0
        # the fit leaves out points of infinite weight (a relative error where f = 0: only
        # an exact 0 scores there, and the scoring grid still holds them)
        d = self.data
        keep = np.isfinite(d.w_fit)
        self.fx = (d.x_fit[keep], d.ref_fit[0][keep], d.w_fit[keep])
        self.fref = (d.ref_fit[0][keep], d.ref_fit[1][keep])

    def evaluate_one(self, prog, bests: dict | None = None) -> Result:
        """Fit and score one program.  The SLP minimax polish (the costly part)
        is given only to programs whose least-squares/Lawson fit comes within
        ``POLISH_FACTOR`` of the best error known at their cost (``bests``);
        with no ``bests`` every program is polished."""
        d, fmt = self.data, self.task.fmt
        cost = self.cost_fn(prog, self.weights)
        best = None if bests is None else bests.get(cost)
        if prog.consts:
            fx = self.fx
            start = self._chain_start(prog)
            starts = () if start is None else (start,)
            s_start = self._schain_start(prog)
            if s_start is not None:     # a chain in s = t + phi/t: its start is followed by a trust region
                starts += (trust_fit(prog, s_start, fx)[0],)
            c, e = fit_constants(prog, fx, self.fref, self.rng, self.fit, polish=False, extra_starts=starts)
            if best is None or e <= POLISH_FACTOR * best:
                c, _ = polish(prog.with_consts(c), fx, self.fref, self.fit)
            rnd = (lambda cs: cs) if fmt.is_real else (lambda cs: fmt.op_format.round(np.asarray(cs)))
            fitted = prog.with_consts(rnd(c))
            err = d.error(fitted)
            # keep the constants the program came with if they score better: the fit does not see
            # rounding, and a classical approximation sown as it is must not come out worse
            kept = prog.with_consts(rnd(prog.consts))
            e0 = d.error(kept)
            fitted, err = (kept, e0) if e0 < err else (fitted, err)
            prog = fitted
        else:
            err = d.error(prog)
        if prog.consts and not fmt.is_real and self.fit.round_evals and (best is None or err <= POLISH_FACTOR * best):
            prog, err, _ = refine_rounded(prog, d.error, fmt.op_format, self.fit.round_evals, err)
        return Result(prog, err, cost, prog.ops, functional_hash(prog, self.probes, self.task.hash_format,
                                                                           self.task.hash_ops))

    def _chain_start(self, prog):
        t = self.task
        return chain_start(prog, t.target, t.lo, t.hi, t.metric != "absolute", self.positive)

    def _schain_start(self, prog):
        t = self.task
        return schain_start(prog, t.target, t.lo, t.hi, t.metric != "absolute", self.positive)

    def evaluate(self, programs, bests: dict | None = None) -> list[Result]:
        return [self.evaluate_one(p, bests) for p in programs]
