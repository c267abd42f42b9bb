"""Ray at the edge: evaluator actors and the backend the driver submits batches to.

Each actor builds the task's arrays (grids, mpmath references) once in its
constructor and keeps them; batches of programs go in, results come out.
The driver keeps every actor busy with up to two batches in flight and
collects them with ``ray.wait`` (one ``ray.get`` per finished batch).

An actor that dies (its process killed, its node lost) is replaced by a new
one and each of its batches is sent again; ``faults`` counts the actors lost
and the batches and candidates redone (a batch that kills ``MAX_REDO``
actors in a row is given up and counted lost).  The actors asked for must
fit the CPUs the machine or cluster has (one CPU each).
"""
from __future__ import annotations

import logging
import os
import signal
from contextlib import contextmanager

from ..evaluators.task import Task

from .errors import UserError
from .evaluate import Evaluator
from .fitting import FitConfig
from .signals import deferred

MAX_REDO = 3


def machine_cpus() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def check_workers(workers: int, where: str) -> None:
    cpus = machine_cpus()
    if workers > cpus:
        raise UserError(f"workers: {workers} evaluator actors asked, {where} has {cpus} CPU(s) (one actor per CPU)")


class EvaluatorActor:
    """Plain class; made a Ray actor by ``RayBackend`` (once per process)."""

    def __init__(self, task: Task, seed: int, fit: FitConfig):
        self.evaluator = Evaluator(task, seed, fit)

    def evaluate(self, programs, bests=None):
        return self.evaluator.evaluate(programs, bests)


@contextmanager
def _keep_our_sigterm(ray):
    """Keep our SIGTERM handler (``deferred``'s) while ray.init runs: it installs its own
    (``ray._private.utils.set_sigterm_handler``: sys.exit in the middle of start-up),
    and a start-up cut short that way left a half-started Ray whose threads crashed the
    process at exit now and then (status -11)."""
    utils = getattr(getattr(ray, "_private", None), "utils", None)
    orig = getattr(utils, "set_sigterm_handler", None)
    if orig is None:
        yield
        return
    utils.set_sigterm_handler = lambda handler: None
    try:
        yield
    finally:
        utils.set_sigterm_handler = orig


class RayBackend:
    per_worker = 2  # batches in flight per actor

    def __init__(self, task: Task, workers: int, seed: int, address: str | None = None,
                 fit: FitConfig = FitConfig()):
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        # Ray's core worker otherwise installs absl's failure-signal handler in this process during
        # ray.init, which takes SIGTERM from ours and aborts (status -6, a C++ dump) on a stop there
        os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
        import ray

        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns and not address:
            check_workers(workers, "this machine")
        self.actors: list = []
        try:
            # a stop during Ray's start-up is acted on once it is up
            with deferred(), _keep_our_sigterm(ray):
                if self._owns:
                    kw = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=True)
                    try:
                        if address:
                            ray.init(address=address, **kw)
                        else:
                            ray.init(num_cpus=max(workers, 1), **kw)
                    except SystemExit as e:   # ray.init's own SIGTERM handler: sys.exit(SIGTERM)
                        if e.code != signal.SIGTERM:
                            raise
                        raise KeyboardInterrupt from None
        except BaseException:
            # a stop held back during start-up is raised here, with Ray up: shut it down now (left to
            # the interpreter's exit, its threads crashed the process, status -11, now and then)
            self.close()
            raise
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            if workers <= 0:
                workers = max(cpus, 1)
            if workers > cpus:
                raise UserError(f"workers: {workers} evaluator actors asked, the Ray cluster has {cpus} CPU(s) "
                                f"(one actor per CPU)")
            remote_cls = ray.remote(num_cpus=1)(EvaluatorActor)
            self._make = lambda i: remote_cls.remote(task, seed + 1 + i, fit)
            self.actors = [self._make(i) for i in range(workers)]
        except BaseException:
            self.close()
            raise
        self._made = workers
        self.load = {a: 0 for a in self.actors}
        self.inflight: dict = {}          # ref -> (actor, tag, programs, bests, tries)
        self.slots = self.per_worker * len(self.actors)
        self.faults = {"actors_lost": 0, "batches_redone": 0, "candidates_redone": 0,
                       "batches_lost": 0, "candidates_lost": 0}

    def submit(self, programs, tag=None, bests=None, tries: int = 0) -> None:
        actor = min(self.actors, key=self.load.__getitem__)
        ref = actor.evaluate.remote(programs, bests)
        self.inflight[ref] = (actor, tag, programs, bests, tries)
        self.load[actor] += 1

    def next_done(self):
        from ray.exceptions import RayActorError

        while True:
            ready, _ = self._ray.wait(list(self.inflight), num_returns=1)
            ref = ready[0]
            actor, tag, programs, bests, tries = self.inflight.pop(ref)
            if actor in self.load:
                self.load[actor] -= 1
            try:
                return tag, self._ray.get(ref)
            except RayActorError:
                self._replace(actor)
                if tries + 1 >= MAX_REDO:
                    self.faults["batches_lost"] += 1
                    self.faults["candidates_lost"] += len(programs)
                    return tag, []
                self.faults["batches_redone"] += 1
                self.faults["candidates_redone"] += len(programs)
                self.submit(programs, tag, bests, tries + 1)

    def _replace(self, actor) -> None:
        """A new actor in place of a dead one (once per dead actor)."""
        if actor not in self.load:
            return
        del self.load[actor]
        self.actors.remove(actor)
        self.faults["actors_lost"] += 1
        new = self._make(self._made)
        self._made += 1
        self.actors.append(new)
        self.load[new] = 0

    def pending(self) -> int:
        return len(self.inflight)

    def close(self) -> None:
        for a in self.actors:
            try:
                self._ray.kill(a)
            except Exception:
                pass
        self.actors = []
        if self._owns:   # also after a start-up cut short (not initialized, its processes up)
            self._ray.shutdown()

