"""Upper bounds on every size a spec or flag sets, each with its reason.

``LIMITS[key path] = (largest value, why)``; the spec validator states both
when a value is over (``search.max_ops: at most 64 (...), got 1000``).
The bounds are far above any useful run and well below what would exhaust
memory or make a run spend hours before its first evaluation.
"""
from __future__ import annotations

_REF = "mpmath references cost tens of microseconds a point at 40 digits"
_EVALS = "a count of evaluations beyond any run"

LIMITS: dict[str, tuple[float, str]] = {
    "search.max_ops": (64, "fitting and interpreting grow with the length of a program; longer ones are out of reach"),
    "search.population": (100_000, "the population is held and sorted in memory every batch"),
    "search.islands": (1024, "each island needs its own sub-population"),
    "search.migrate_every": (10 ** 12, _EVALS),
    "search.restart_after": (10 ** 12, _EVALS),
    "search.init_ops": (64, "initial programs are never longer than search.max_ops allows"),
    "search.batch": (4096, "a batch is one Ray task; larger ones leave workers idle"),
    "search.dedup_retries": (10_000, "retries are made for every child bred"),
    "budget.evaluations": (10 ** 12, _EVALS),
    "budget.seconds": (10 ** 8, "about three years"),
    "checkpoint_every": (10 ** 6, "a checkpoint at least every 11 days"),
    "evaluation.fit_points": (100_000, _REF + " and fitting solves a system on every point"),
    "evaluation.score_points": (1_000_000, _REF),
    "evaluation.verify_points": (1_000_000, _REF),
    "fitting.starts": (1000, "every start is a full least-squares fit of every candidate"),
    "fitting.lm_iters": (10_000, "iterations are paid for every candidate"),
    "fitting.lawson_iters": (10_000, "iterations are paid for every candidate"),
    "fitting.slp_iters": (10_000, "iterations are paid for every candidate"),
    "fitting.perturb": (1e6, "a relative perturbation of the constants"),
    "fitting.round_evals": (100_000, "each is a scoring of the candidate on the whole scoring grid"),
    "speed.n": (1 << 24, "the timed vector is held on the device"),
    "speed.steps": (100_000, "every timing runs this chain"),
    "speed.timings": (10_000, "calls per measurement"),
    "speed.measurements": (1000, "interleaved measurements per timed program"),
    "speed.max_timed": (10 ** 6, "timings in one run"),
    "speed.max_fraction": (1, "a fraction of the run's wall time"),
    "speed.verify": (1000, "each check runs over every value of the interval"),
    "workers": (4096, "one Ray actor (and process) per worker"),
    "seed": (2 ** 64 - 1, "NumPy seeds are 64-bit here"),
    "cost.weights": (1e6, "a cost per op"),
    "search.mutations": (1e6, "a relative weight"),
}


def limit(path: str) -> tuple[float, str] | None:
    """(largest value, why) for a key path, or None if unbounded."""
    return LIMITS.get(path)
