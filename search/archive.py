"""The Pareto archive: the best program seen at each cost, and the front.

The front is the set of archived programs not dominated in (error, cost):
a program is on it if no cheaper-or-equal program has a lower-or-equal error.
"""
from __future__ import annotations


class ParetoArchive:
    def __init__(self):
        self.best: dict = {}  # cost -> Individual

    def add(self, ind) -> bool:
        """Record ind if it is the best at its cost; True if it was."""
        cur = self.best.get(ind.cost)
        if cur is None or ind.error < cur.error or (ind.error == cur.error and len(ind.program.consts) < len(cur.program.consts)):
            self.best[ind.cost] = ind
            return True
        return False

    def front(self) -> list:
        """Non-dominated archived individuals, cheapest first."""
        out, best_err = [], float("inf")
        for c in sorted(self.best):
            ind = self.best[c]
            if ind.error < best_err:
                out.append(ind)
                best_err = ind.error
        return out

    def __len__(self) -> int:
        return len(self.best)
