"""Evaluation backends: where the run loop sends batches of candidates.

A backend takes batches with ``submit(programs, tag, bests)`` and hands back
one finished batch as ``(tag, results)`` with ``next_done``; ``slots`` is how
many batches it wants in flight, ``pending`` how many are.  ``SerialBackend``
evaluates in process (no Ray); ``ray_driver.RayBackend`` on Ray actors.
``make_backend`` picks one: in process for ``workers == 0`` without a
cluster address, Ray otherwise.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from ..evaluators.task import Task

from .evaluate import Evaluator, Result
from .fitting import FitConfig


class Backend(Protocol):
    slots: int

    def submit(self, programs: Sequence, tag=None, bests: dict | None = None) -> None: ...

    def next_done(self) -> tuple[object, list[Result]]: ...

    def pending(self) -> int: ...

    def close(self) -> None: ...


class SerialBackend:
    """In-process evaluation (``--workers 0``, tests): the same interface as Ray's."""

    slots = 1

    def __init__(self, task: Task, seed: int, fit: FitConfig = FitConfig()):
        self.evaluator = Evaluator(task, seed + 1, fit)
        self.queue: list = []

    def submit(self, programs, tag=None, bests=None) -> None:
        self.queue.append((programs, tag, bests))

    def next_done(self):
        programs, tag, bests = self.queue.pop(0)
        return tag, self.evaluator.evaluate(programs, bests)

    def pending(self) -> int:
        return len(self.queue)

    def close(self) -> None:
        pass


def make_backend(spec, address: str | None = None) -> Backend:
    """The backend for a RunSpec: in process when ``spec.workers == 0`` and no
    cluster ``address`` is given, else Ray actors (a local Ray is started
    unless ``address`` names a cluster)."""
    if spec.workers == 0 and not address:
        return SerialBackend(spec.task, spec.seed, spec.fit)
    from .ray_driver import RayBackend
    return RayBackend(spec.task, spec.workers, spec.seed, address, spec.fit)
