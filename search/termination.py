"""When a run stops: its budget (the spec's ``budget``) and the test of it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    seconds: float = 300.0        # wall-clock cap
    evaluations: int | None = None
    stop_when: tuple = ()         # ((max_cost, error), ...): stop once all are met

    def status(self, elapsed: float, search) -> str | None:
        """Why the run should stop now (a status line), or None to go on."""
        if elapsed >= self.seconds:
            return "finished: time budget"
        if self.evaluations is not None and search.evaluated >= self.evaluations:
            return "finished: evaluation budget"
        if self.stop_when and self.goals_met(search.archive.front()):
            return "finished: stop_when reached"
        return None

    def goals_met(self, front) -> bool:
        """Every (cost, error) goal met by some program of cost <= cost."""
        return all(any(i.cost <= c and i.error <= e for i in front) for c, e in self.stop_when)
