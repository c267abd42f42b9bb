"""Speed as the second objective: the measured speed ratio of every candidate
that meets the error target, cached by functional hash.

After each finished batch the run loop hands its results to ``SpeedCache.tell``.
A result whose search error meets ``target.error`` is timed once
(``timing.speed_ratio_program`` of its ``speed.exporter`` export against the
target's jax.numpy function, with the spec's ``speed`` settings); the key is
its functional hash and op count (the same function in fewer instructions is
other code, so it is timed again).  A result whose key was timed before is a
cache hit: not timed, counted as ``saved``.  Timing has a budget: at most
``max_timed`` timings in the run, and the seconds spent timing at most
``max_fraction`` of the run's wall time; a result over it is ``skipped``.
At the end of the run ``settle`` times the front's programs that meet the
target and were skipped (past ``max_fraction``, within ``max_timed``).

Pure Python (no JAX here): the timer is a function given to the cache;
``speed_cache(spec)`` builds the one a run uses.  The records and counts are
JSON-able (``state``/``restore``: they travel in checkpoint.json).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

TIMED_EXPORTERS = ("jax", "jax_exact", "jax_fast")   # exports speed_ratio_program can time (jax_fast: jax's former name)
SPEED_TIE = 0.01   # speed ratios within 1% of each other are ties (see ``SpeedCache.by_speed``)
SPEED_FIELDS = ("ratio", "ratio_q25", "ratio_q75", "ratio_min", "ratio_max", "program_ns", "reference_ns")


@dataclass(frozen=True)
class SpeedConfig:
    """The spec's ``speed`` section (timing settings: see ``timing.speed_ratio``)."""
    time: bool = False            # time the candidates that meet target.error
    exporter: str = "jax"         # the export timed (a name in TIMED_EXPORTERS)
    n: int = 16384                # values in the timed vector
    steps: int = 100              # applications in the chain
    timings: int = 40             # calls per measurement (its minimum is taken)
    measurements: int = 5         # interleaved measurements (median ratio, quartiles)
    max_timed: int = 200          # timings in the whole run at most
    max_fraction: float = 0.5     # seconds timing at most this fraction of the run's wall time
    verify: int = 3               # at the end, exhaustive checks of the fastest (the figure of record)
    inputs: str = "all"           # "all": the timed code is right for every input; "domain": only on the
                                  # interval (a precondition the fast export may use; see export_jax_fast)

    def options(self) -> dict:
        return {"n": self.n, "steps": self.steps, "timings": self.timings, "measurements": self.measurements}


class SpeedCache:
    """Speed ratios of the programs that meet ``goal``, keyed by (functional
    hash, ops); ``timer(program) -> speed_ratio dict``."""

    def __init__(self, cfg: SpeedConfig, goal: float, timer: Callable[[object], dict],
                 checker: Callable[[str], float] | None = None, fingerprint: Callable[[object], str] | None = None):
        self.cfg = cfg
        self.goal = goal
        self.timer = timer
        self.checker = checker  # program text -> its error over every value of the interval
        self.fingerprint = fingerprint  # program -> a hash of its values over the interval (``_function``)
        self.records: dict[str, dict] = {}
        self.timed = 0          # timings made
        self.saved = 0          # timings the cache saved (a result whose key was timed)
        self.skipped = 0        # results that met the goal but were over the timing budget
        self.seconds = 0.0      # spent timing
        self.setup: dict = {}   # device, reference, jax version of the timings

    @staticmethod
    def key(hash_: str, ops: int) -> str:
        return f"{hash_}/{ops}"

    def get(self, hash_: str, ops: int) -> dict | None:
        return self.records.get(self.key(hash_, ops))

    def _over_budget(self, elapsed: float) -> bool:
        return self.timed >= self.cfg.max_timed or self.seconds > self.cfg.max_fraction * elapsed

    def tell(self, results, elapsed: Callable[[], float]) -> None:
        """Time each result that meets the goal and is not cached (within the
        budget; ``elapsed()`` is the run's wall time so far)."""
        for r in results:
            if not r.error <= self.goal:
                continue
            if self.get(r.hash, r.ops) is not None:
                self.saved += 1
            elif self._over_budget(elapsed()):
                self.skipped += 1
            else:
                self._time(r)

    def settle(self, front) -> int:
        """At the end of a run: time the programs of ``front`` (results or
        archive individuals) that meet the goal but were skipped, within
        ``max_timed`` but past ``max_fraction`` (a front holds at most a few
        programs); returns how many were timed."""
        todo = [i for i in front if i.error <= self.goal and self.get(i.hash, i.ops) is None]
        todo = todo[:max(self.cfg.max_timed - self.timed, 0)]
        for i in todo:
            self._time(i)
        return len(todo)

    def _time(self, r) -> None:
        t0 = time.monotonic()
        m = self.timer(r.program)
        self.seconds += time.monotonic() - t0
        self.timed += 1
        self.setup = {k: m[k] for k in ("device", "jax_version", "reference") if k in m}
        self.records[self.key(r.hash, r.ops)] = {
            "program": r.program.text(), "cost": r.cost, "ops": r.ops, "hash": r.hash, "search_error": r.error,
            "exporter": m.get("exporter", self.cfg.exporter), **{f: m[f] for f in SPEED_FIELDS},
            **({"function": self.fingerprint(r.program)} if self.fingerprint else {})}

    def confirm(self) -> int:
        """At the end of a run: check the fastest timed programs exhaustively
        (``checker``: ``speed_cache``'s checks the timed export's compiled
        function over every value of the interval), fastest first, until one meets the goal, at most
        ``verify`` checks; each record keeps its ``exhaustive_error``.  The
        dense grid can miss a worst case by a few tenths of an ulp: ``fastest``
        then skips the ones the check failed.  Records of one function share
        one check (``_function``: the same kernel with other no-op
        instructions, timed apart; marked ``check_shared``); the program that
        ships (``shipped``) is then checked itself if its figure was shared,
        one check more, so that the figure of record is its own.  Returns how
        many were checked."""
        done = 0
        if self.fingerprint is not None:   # records timed before fingerprints (a resumed run)
            from ..primitives.program import parse_program
            for r in self.records.values():
                r.setdefault("function", self.fingerprint(parse_program(r["program"])))
        known = {_function(r): r["exhaustive_error"] for r in self.records.values()
                 if "exhaustive_error" in r and not r.get("check_shared")}

        def check(rec: dict) -> None:
            nonlocal done
            rec["exhaustive_error"] = known[_function(rec)] = float(self.checker(rec["program"]))
            rec.pop("check_shared", None)
            done += 1

        for rec in self.by_speed():
            if "exhaustive_error" not in rec and _function(rec) in known:
                rec["exhaustive_error"], rec["check_shared"] = known[_function(rec)], True
            if "exhaustive_error" not in rec:
                if self.checker is None or done >= self.cfg.verify:
                    break
                check(rec)
            if rec["exhaustive_error"] <= self.goal:
                break
        for r in self.records.values():   # twins not reached (a cheaper one may tie: ``shipped``)
            if _function(r) in known and "exhaustive_error" not in r:
                r["exhaustive_error"], r["check_shared"] = known[_function(r)], True
        while self.checker is not None and (best := self.shipped()) is not None and best.get("check_shared"):
            check(best)       # its own check: a shared figure rests on a fingerprint, not on every value
        return done

    def shipped(self, meets: Callable[[dict], bool] = lambda rec: True) -> dict | None:
        """The record to ship: the fastest that ``passes`` and ``meets``, or a
        cheaper one within ``SPEED_TIE`` of its ratio that does too (the same
        speed, less code: a kernel and its twin with no-op instructions time
        within noise of each other, in either order); None if none does."""
        best = lead = None     # lead: the fastest that passes (ties are measured from it, not chained)
        for t in self.by_speed():
            if lead is not None and t["ratio"] < lead / (1 + SPEED_TIE):
                break
            if (best is None or t["cost"] < best["cost"]) and self.passes(t) and meets(t):
                best, lead = t, t["ratio"] if lead is None else lead
        return best

    def passes(self, rec: dict) -> bool:
        """Whether a record may be ``fastest``: its exhaustive check met the
        goal, or the run makes no such checks."""
        if self.checker is None or self.cfg.verify <= 0:
            return rec.get("exhaustive_error", -1.0) <= self.goal
        return rec.get("exhaustive_error", float("inf")) <= self.goal

    def by_speed(self) -> list[dict]:
        """The records, fastest first; ratios within ``SPEED_TIE`` of the
        fastest left are ties, taken cheapest first (then faster, then by
        program text): one machine code timed twice differs by about 0.3%
        (an 11-op exp kernel and a 13-op one whose extra min(a, a) XLA folds:
        1.548 and 1.552), and the cheaper program is the one to ship."""
        rest = sorted(self.records.values(), key=lambda r: (-r["ratio"], r["cost"], r["program"]))
        out: list[dict] = []
        while rest:
            n = sum(r["ratio"] >= rest[0]["ratio"] / (1 + SPEED_TIE) for r in rest)   # a prefix: sorted
            out += sorted(rest[:n], key=lambda r: (r["cost"], -r["ratio"], r["program"]))
            rest = rest[n:]
        return out

    @staticmethod
    def fields(rec: dict) -> dict:
        """What front.json adds to an entry that was timed."""
        out = {"speed_ratio": rec["ratio"], "speed_ratio_q25": rec["ratio_q25"],
               "speed_ratio_q75": rec["ratio_q75"], "speed_exporter": rec["exporter"]}
        if "exhaustive_error" in rec:
            out["exhaustive_error"] = rec["exhaustive_error"]
        return out

    def counts(self) -> dict:
        """The run stats' timing figures."""
        return {"timed": self.timed, "timing_cache_saved": self.saved, "timing_skipped": self.skipped,
                "timing_seconds": round(self.seconds, 2)}

    def summary(self) -> str:
        """For the progress lines: ``timed 12 (cache saved 30, skipped 2)``."""
        skip = f", skipped {self.skipped} over the timing budget" if self.skipped else ""
        return f"timed {self.timed} (cache saved {self.saved}{skip})"

    # ------------------------------------------------------------ checkpoint
    def state(self) -> dict:
        return {"records": self.records, "timed": self.timed, "saved": self.saved, "skipped": self.skipped,
                "seconds": self.seconds, "setup": self.setup}

    def restore(self, st: dict) -> None:
        self.records = dict(st.get("records", {}))
        self.timed, self.saved = st.get("timed", 0), st.get("saved", 0)
        self.skipped, self.seconds = st.get("skipped", 0), st.get("seconds", 0.0)
        self.setup = dict(st.get("setup", {}))


def _function(rec: dict) -> tuple:
    """What identifies a timed record's function for the end-of-run check: its
    ``function`` fingerprint (``interval_fingerprint``: values over the interval,
    not beyond it, where kernels that differ only at infinities hash apart) when
    it has one, else the values part of its hash (before the op multiset's
    suffix); and its search error, because two float32 tanh kernels of degree 5
    and 6 round to the same values at the hash's 16 probes (errors 0.855 and 0.51
    ulp on the dense grid)."""
    return rec.get("function") or rec["hash"].split(".")[0], rec["search_error"]


def interval_fingerprint(program, fmt: str, lo: float, hi: float, n: int = 4096) -> str:
    """A hash of the program's values (in ``fmt``) at ``n`` fixed inputs spread evenly over the
    float32 bit patterns of [lo, hi] (so every binade of a whole-domain interval is sampled,
    subnormals and the largest values included) and at lo and hi."""
    import hashlib

    import numpy as np

    from ..evaluators.values import float32_keys
    from ..primitives.kernels import evaluate_float
    k0, k1 = float32_keys(lo, hi)
    keys = np.unique(np.round(np.linspace(k0, k1, n)).astype(np.int64))
    mags = np.abs(keys).astype(np.uint32).view(np.float32).astype(np.float64)
    x = np.concatenate([np.where(keys < 0, -mags, mags), [lo, hi]])
    y = evaluate_float(program, x, fmt) + 0.0   # -0 as +0
    y[np.isnan(y)] = np.nan
    return hashlib.blake2b(y.tobytes(), digest_size=8).hexdigest()


def speed_cache(spec) -> SpeedCache | None:
    """The cache a run of ``spec`` times with (None: the spec does not time)."""
    cfg = spec.speed
    if not cfg.time:
        return None
    t = spec.task

    def timer(program) -> dict:
        from .timing import speed_ratio_program
        return speed_ratio_program(program, t.format, t.target, t.lo, t.hi, to=cfg.exporter,
                                   inputs=(t.lo, t.hi) if cfg.inputs == "domain" else None, **cfg.options())

    def checker(text: str) -> float:
        # the timed export's compiled function, the code that ships (its figure of record; XLA:CPU
        # flushes subnormal inputs, which the check sets aside): about 15 times as fast as checking
        # the interpreter over every float32 (50 s against 13 to 30 min for a 29-op tanh kernel)
        from .exported import check_exported
        r = check_exported(text, t.target, t.lo, t.hi, t.format, to=cfg.exporter,
                           inputs=(t.lo, t.hi) if cfg.inputs == "domain" else None)
        return {"ulp": r.max_ulp, "relative": r.max_rel, "absolute": r.max_abs}[t.metric]
    return SpeedCache(cfg, spec.error_target, timer, checker,
                      lambda program: interval_fingerprint(program, t.format, t.lo, t.hi))
