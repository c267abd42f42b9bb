"""The evolutionary search as ask/tell: pure Python, no Ray, seeded RNG.

Islands: the population is split into sub-populations that evolve apart
(each kept by the selector, NSGA-II by default, one program per function)
and pass their front to the next island every ``migrate_every``
evaluations; an island whose children improved nothing on the archive for
``restart_after`` evaluations starts again from the initial program(s).

``ask(n)`` breeds n children on one island (round robin) and returns them
with the island's tag: parents by tournament, one mutation each.  With
hashing on, a child whose function was already bred or evaluated is not
bred: the mutation is retried, and each such duplicate counts as an
evaluation the functional hash saved.  ``tell(results, tag)`` updates the
Pareto archive and the island; a result that is a new best at its cost has
every ``merge`` of it (alike instructions joined, one op less) queued, to be
bred before any mutation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .archive import ParetoArchive
from .fhash import functional_hash
from .init import INITS
from .mutation import DEFAULT_WEIGHTS, MutationContext, merges, mutate, squared
from ..primitives.program import Program
from .selection import SELECTORS, tournament


@dataclass(frozen=True)
class Individual:
    program: Program
    error: float
    cost: float
    ops: int
    hash: str
    birth: int


@dataclass(frozen=True)
class SearchConfig:
    ops: tuple[str, ...] = ("add", "sub", "mul", "div")
    max_ops: int = 12
    population: int = 64              # in all, over the islands
    islands: int = 4
    migrate_every: int = 400          # evaluations between migrations
    restart_after: int = 3000         # restart an island that improved nothing in this many
                                      # evaluations (0: never); it takes no migrants for half that
    init: str = "empty"               # a name in init.INITS: empty, random or baselines
    init_ops: int = 3                 # inserts per random initial program
    selector: str = "nsga2"
    hashing: bool = True
    dedup_retries: int = 20
    mutation_weights: dict = field(default_factory=dict)
    baselines: bool = True            # classical approximations sown and merged into the front (classical.py)


class Search:
    def __init__(self, cfg: SearchConfig, probes: np.ndarray, hash_format: str, rng: np.random.Generator,
                 seeds: tuple = (), hash_ops: bool = False):
        self.cfg = cfg
        self.seeds = tuple(seeds)         # programs sown once at the start (INITS[init].seeds)
        self._unsown = list(seeds)
        self._priority: list[Program] = []   # bred before any mutation: merges of new bests
        self.rng = rng
        self.probes = probes
        self.hash_format = hash_format
        self.hash_ops = hash_ops          # the hash tells apart op multisets (Task.hash_ops)
        self.ctx = MutationContext(tuple(cfg.ops), dict(cfg.mutation_weights))
        self.islands: list[list[Individual]] = [[] for _ in range(max(cfg.islands, 1))]
        self.archive = ParetoArchive()
        self.seen: dict[str, int] = {}   # functional hash -> fewest ops it was bred or scored with
        self.evaluated = 0
        self.duplicates = 0           # children not bred because their function was known
        self.births = 0
        self._started = False
        self._next = 0
        self._last_migration = 0
        self.restarts = 0
        k = len(self.islands)
        self._improved_at = [0] * k       # evaluation count of each island's last archive gain
        self._closed_until = [0] * k      # a restarted island takes no migrants before this

    @property
    def population(self) -> list[Individual]:
        return [i for isl in self.islands for i in isl]

    def _hash(self, p: Program) -> str:
        return functional_hash(p, self.probes, self.hash_format, self.hash_ops)

    def _fresh(self) -> Program:
        return INITS[self.cfg.init].fresh(self.rng, self.ctx, self.cfg.init_ops, self.seeds)

    def ask(self, n: int) -> tuple[list[Program], int]:
        """(children, island): n children of one island (fewer only if the
        dedup retries run out)."""
        isl = self._next
        self._next = (self._next + 1) % len(self.islands)
        pop = self.islands[isl]
        out: list[Program] = []
        parents = tournament(pop, n, self.rng) if pop else [None] * n
        for parent in parents:
            if self._unsown:
                # each seed itself, once, before any child, past the dedup: seeds are
                # fitted programs whose functions may agree to the hash's 36 bits
                # (a (4,3) and a (4,4) rational of 2^x, 1e-12 and 1e-14 from it)
                seed = self._unsown.pop(0)
                if self.cfg.hashing:
                    h = self._hash(seed)
                    self.seen[h] = min(self.seen.get(h, seed.ops), seed.ops)
                out.append(seed)
                continue

            def breed():
                if self._priority:
                    return self._priority.pop(0)
                base = parent.program if parent is not None else self._fresh()
                if parent is None and not self._started:
                    self._started = True
                    return base  # the initial program itself, once
                return mutate(base, self.rng, self.ctx)
            self._admit_one(breed, out)
        return out, isl

    def _admit_one(self, breed, out: list) -> None:
        """Append the first of up to ``dedup_retries`` bred programs that fits
        max_ops and (with hashing) computes a function not seen before, or one
        seen only with more ops (the same function, cheaper, is news)."""
        for _ in range(self.cfg.dedup_retries):
            child = breed()
            if child.ops > self.cfg.max_ops:
                continue
            if self.cfg.hashing:
                h = self._hash(child)
                if self.seen.get(h, child.ops + 1) <= child.ops:
                    self.duplicates += 1
                    continue
                self.seen[h] = child.ops
            out.append(child)
            return

    def tell(self, results, island: int = 0) -> None:
        new = []
        for r in results:
            self.births += 1
            ind = Individual(r.program, r.error, r.cost, r.ops, r.hash, self.births)
            if self.archive.add(ind):
                self._improved_at[island] = self.evaluated + len(results)
                if self.ctx.weights.get("merge", DEFAULT_WEIGHTS["merge"]) > 0:
                    # a new best at its cost: try it shorter at once (every merge of
                    # alike instructions), rather than waiting for the mutation to draw it
                    self._priority.extend(merges(r.program))
                if (self.ctx.weights.get("square", DEFAULT_WEIGHTS["square"]) > 0 and "mul" in self.cfg.ops
                        and r.ops < self.cfg.max_ops):
                    # and squared: one op more, and where f = g^2 the rest need only do g (its fit starts
                    # from theory where it is a chain, chain.py); drawn by the mutation, the squaring of a
                    # new best can wait for ever: its parent ages out of the population first (measured:
                    # a 9-op 2^x chain at 1.4e-13, squared 2.4e-15, not bred in 1400 s)
                    self._priority.append(squared(r.program))
            new.append(ind)
            if self.cfg.hashing:
                self.seen[r.hash] = min(self.seen.get(r.hash, r.ops), r.ops)
        self.evaluated += len(results)
        self.islands[island] = self._survive(self.islands[island] + new)
        ra = self.cfg.restart_after
        if ra and len(self.islands) > 1 and self.evaluated - self._improved_at[island] > ra:
            # stagnant: start this island again from the initial program(s)
            self.islands[island] = []
            self._improved_at[island] = self.evaluated
            self._closed_until[island] = self.evaluated + ra // 2
            self.restarts += 1
        if len(self.islands) > 1 and self.evaluated - self._last_migration >= self.cfg.migrate_every:
            self._last_migration = self.evaluated
            fronts = [self._front(isl) for isl in self.islands]
            for k in range(len(self.islands)):
                if self.evaluated >= self._closed_until[k]:
                    self.islands[k] = self._survive(self.islands[k] + fronts[k - 1])

    def _survive(self, inds: list[Individual]) -> list[Individual]:
        """One individual per function (the lower error, then the cheaper), then the selector."""
        best: dict[str, Individual] = {}
        for ind in inds:
            cur = best.get(ind.hash)
            if cur is None or (ind.error, ind.cost) < (cur.error, cur.cost):
                best[ind.hash] = ind
        size = max(self.cfg.population // len(self.islands), 2)
        return SELECTORS[self.cfg.selector](list(best.values()), size, self.rng)

    @staticmethod
    def _front(inds: list[Individual]) -> list[Individual]:
        a = ParetoArchive()
        for i in inds:
            a.add(i)
        return a.front()

    @property
    def saved_fraction(self) -> float:
        n = self.duplicates + self.evaluated
        return self.duplicates / n if n else 0.0

    def bests(self) -> dict:
        """Best error known at each cost (sent with batches to screen the polish)."""
        return {c: i.error for c, i in self.archive.best.items()}

    def best_by_cost(self) -> list[tuple[float, float]]:
        return [(i.cost, i.error) for i in self.archive.front()]

    # ------------------------------------------------------------ checkpoint
    def state(self, pending=()) -> dict:
        """A JSON-able snapshot: enough to resume the search (see ``restore``).
        ``pending``: children bred but not yet told (in flight at a stop); they
        are kept to be bred first on a resume, not marked as seen."""
        seen = dict(self.seen)
        for p in pending:
            h = self._hash(p)
            if seen.get(h) == p.ops:
                del seen[h]
        ind = lambda i: {"program": i.program.text(), "error": i.error if i.error < float("inf") else "inf",
                         "cost": i.cost, "ops": i.ops, "hash": i.hash, "birth": i.birth}
        return {"islands": [[ind(i) for i in isl] for isl in self.islands],
                "archive": [ind(i) for i in self.archive.best.values()],
                "seen": sorted(seen.items()), "priority": [p.text() for p in (*pending, *self._priority)],
                "evaluated": self.evaluated, "duplicates": self.duplicates,
                "births": self.births, "started": self._started, "next": self._next,
                "last_migration": self._last_migration, "restarts": self.restarts,
                "improved_at": self._improved_at, "closed_until": self._closed_until,
                "rng": self.rng.bit_generator.state}

    def restore(self, st: dict) -> None:
        def ind(d):
            return Individual(Program.parse(d["program"]), float(d["error"]), d["cost"], d["ops"], d["hash"], d["birth"])
        self.islands = [[ind(d) for d in isl] for isl in st["islands"]]
        self.archive = ParetoArchive()
        for d in st["archive"]:
            self.archive.add(ind(d))
        # [hash, ops] pairs; a bare hash (older checkpoints) counts as seen at 0 ops
        self.seen = dict((e, 0) if isinstance(e, str) else tuple(e) for e in st["seen"])
        self._priority = [Program.parse(t) for t in st.get("priority", [])]
        self.evaluated, self.duplicates, self.births = st["evaluated"], st["duplicates"], st["births"]
        self._started, self._next, self._last_migration = st["started"], st["next"], st["last_migration"]
        k = len(self.islands)
        self.restarts = st.get("restarts", 0)
        self._improved_at = st.get("improved_at", [self.evaluated] * k)
        self._closed_until = st.get("closed_until", [0] * k)
        self.rng.bit_generator.state = st["rng"]
