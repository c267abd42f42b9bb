"""Discovery benchmark: what a spec's search finds in a fixed budget, and what
its parts are worth.

Runs the spec (evolution, functional hashing on) for --seconds, then in the
same budget two ablations: random search with the same evaluator, and the
evolutionary search with functional hashing off.  Prints, per op count, the
best error of each, the minimax polynomial of equal op count beside it (when
the baselines module is available), and the wall time at which each figure was
first reached; then the gain of each part as a ratio of times to reach the
same error.

    python benchmarks/discovery.py runs/exp2_quick.yaml --seconds 120 --workers 2
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.driver import SerialBackend, run_search  # noqa: E402
from search.engine import Search  # noqa: E402
from search.random_search import RandomSearch  # noqa: E402
from search.spec import load_spec  # noqa: E402


class Trace:
    """Best error per cost over time: history[cost] = [(t, err), ...] improvements."""

    def __init__(self):
        self.history: dict = {}

    def __call__(self, t, search):
        for ind in search.archive.best.values():
            h = self.history.setdefault(ind.cost, [])
            if not h or ind.error < h[-1][1]:
                h.append((t, ind.error))

    def best_at_or_below(self, cost):
        pts = [p for c, h in self.history.items() if c <= cost for p in h]
        return min((e for _, e in pts), default=float("inf"))

    def time_to(self, cost, err):
        """First time any program of cost <= ``cost`` had error <= err."""
        ts = [t for c, h in self.history.items() if c <= cost for t, e in h if e <= err * (1 + 1e-9)]
        return min(ts, default=None)


def run(spec, cls, workers, address, label):
    if workers == 0:
        backend = SerialBackend(spec.task, spec.seed)
    else:
        from search.ray_driver import RayBackend
        backend = RayBackend(spec.task, workers, spec.seed, address)
    tr = Trace()
    stats, _ = run_search(spec, backend, None, echo=lambda s: None, search_cls=cls, observer=tr)
    print(f"  {label:<22} {stats.evaluations:>7} evaluations  {stats.evals_per_second:6.1f}/s  "
          f"hash saved {100 * stats.hash_saved_fraction:4.1f}%", flush=True)
    return tr


def minimax_by_ops(task, max_ops):
    try:
        from evaluators.baselines import best_baseline_by_ops
    except ImportError:
        return {}
    try:
        return {k: b.error for k, b in best_baseline_by_ops(task, max_ops, methods=("minimax",)).items()}
    except TypeError:
        return {k: b.error for k, b in best_baseline_by_ops(task, max_ops).items() if b.method == "minimax"}


def fmt_t(t):
    return "-" if t is None else f"{t:.0f}s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--address")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--no-ablations", action="store_true")
    a = ap.parse_args(argv)
    spec = load_spec(a.spec)
    spec = replace(spec, budget=replace(spec.budget, seconds=a.seconds, stop_when=()),
                   seed=spec.seed if a.seed is None else a.seed)
    print(f"discovery: {spec.name}: {spec.task.describe()}, budget {a.seconds:g}s, {a.workers} workers")
    full = run(spec, Search, a.workers, a.address, "evolution + hashing")
    ablations = {}
    if not a.no_ablations:
        ablations["random search"] = run(spec, RandomSearch, a.workers, a.address, "random search")
        nohash = replace(spec, search=replace(spec.search, hashing=False))
        ablations["no hashing"] = run(nohash, Search, a.workers, a.address, "evolution, no hashing")
    base = minimax_by_ops(spec.task, spec.search.max_ops)
    names = list(ablations)
    print()
    head = f"{'ops':>3}  {'best error':>10} {'first at':>8}  {'minimax poly':>12} {'gain':>8}"
    for n in names:
        head += f"  {n:>14} {'first at':>8}"
    print(head)
    for c in sorted(k for k in full.history if k <= spec.search.max_ops):
        e = full.best_at_or_below(c)
        t = full.time_to(c, e)
        b = base.get(c)
        row = f"{c:>3g}  {e:>10.3e} {fmt_t(t):>8}  " + (f"{b:>12.3e} {b / e:>7.0f}x" if b else f"{'-':>12} {'-':>8}")
        for n in names:
            ea = ablations[n].best_at_or_below(c)
            row += f"  {ea:>14.3e} {fmt_t(ablations[n].time_to(c, ea)):>8}"
        print(row)
    print()
    for n in names:
        ratios = []
        for c in sorted(full.history):
            ea = ablations[n].best_at_or_below(c)
            if not ea < float("inf"):
                continue
            t_full, t_abl = full.time_to(c, ea), ablations[n].time_to(c, ea)
            if t_full and t_abl:
                ratios.append((c, t_abl / t_full, ea))
        if ratios:
            import statistics
            med = statistics.median(r for _, r, _ in ratios)
            detail = ", ".join(f"{c:g} ops: {r:.1f}x" for c, r, _ in ratios)
            print(f"gain over {n}: time to reach {n}'s best error, {n} / full: median {med:.1f}x ({detail})")
        lost = [c for c in sorted(full.history) if full.best_at_or_below(c) < ablations[n].best_at_or_below(c)]
        if lost:
            print(f"  {n} never reached the full search's error at {', '.join(f'{c:g}' for c in lost)} ops "
                  f"within the budget")
        won = [c for c in sorted(full.history) if ablations[n].best_at_or_below(c) < full.best_at_or_below(c)]
        if won:
            print(f"  the full search never reached {n}'s error at {', '.join(f'{c:g}' for c in won)} ops "
                  f"within the budget")


if __name__ == "__main__":
    main()
