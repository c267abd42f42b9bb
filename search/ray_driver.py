"""Ray at the edge: evaluator actors and the backend the driver submits batches to.

Each actor builds the task's arrays (grids, mpmath references) once in its
constructor and keeps them; batches of programs go in, results come out.
The driver keeps every actor busy with up to two batches in flight and
collects them with ``ray.wait`` (one ``ray.get`` per finished batch).
"""
from __future__ import annotations

import logging
import os

from ..evaluators.task import Task

from .evaluate import Evaluator
from .fitting import FitConfig


class EvaluatorActor:
    """Plain class; made a Ray actor by ``RayBackend`` (once per process)."""

    def __init__(self, task: Task, seed: int, fit: FitConfig):
        self.evaluator = Evaluator(task, seed, fit)

    def evaluate(self, programs, bests=None):
        return self.evaluator.evaluate(programs, bests)


class RayBackend:
    per_worker = 2  # batches in flight per actor

    def __init__(self, task: Task, workers: int, seed: int, address: str | None = None,
                 fit: FitConfig = FitConfig()):
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        import ray

        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            kw = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=True)
            if address:
                ray.init(address=address, **kw)
            else:
                ray.init(num_cpus=max(workers, 1), **kw)
        if workers <= 0:
            workers = max(int(ray.cluster_resources().get("CPU", 1)), 1)
        remote_cls = ray.remote(num_cpus=1)(EvaluatorActor)
        self.actors = [remote_cls.remote(task, seed + 1 + i, fit) for i in range(workers)]
        self.load = {a: 0 for a in self.actors}
        self.inflight: dict = {}
        self.slots = self.per_worker * len(self.actors)

    def submit(self, programs, tag=None, bests=None) -> None:
        actor = min(self.actors, key=self.load.__getitem__)
        ref = actor.evaluate.remote(programs, bests)
        self.inflight[ref] = (actor, tag)
        self.load[actor] += 1

    def next_done(self):
        ready, _ = self._ray.wait(list(self.inflight), num_returns=1)
        ref = ready[0]
        actor, tag = self.inflight.pop(ref)
        self.load[actor] -= 1
        return tag, self._ray.get(ref)

    def pending(self) -> int:
        return len(self.inflight)

    def close(self) -> None:
        for a in self.actors:
            self._ray.kill(a)
        if self._owns:
            self._ray.shutdown()

