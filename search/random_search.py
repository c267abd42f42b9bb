"""Random search with the same interface as ``engine.Search``: every candidate
is a fresh random program (1..max_ops inserts from f(x) = x), evaluated by the
same evaluator.  The baseline the evolutionary search is measured against."""
from __future__ import annotations

from .engine import Individual, Search
from .mutation import random_program


class RandomSearch(Search):
    def ask(self, n: int):
        out: list = []
        breed = lambda: random_program(self.rng, self.ctx, int(self.rng.integers(1, self.cfg.max_ops + 1)))
        for _ in range(n):
            self._admit_one(breed, out)
        return out, 0

    def tell(self, results, island: int = 0) -> None:
        for r in results:
            self.births += 1
            self.archive.add(Individual(r.program, r.error, r.cost, r.ops, r.hash, self.births))
        self.evaluated += len(results)
