"""Discovery benchmark: what a spec's search finds in a fixed budget, and what
its parts are worth.

Runs the spec (evolution, functional hashing on) for --seconds, then in the
same budget two ablations: random search with the same evaluator, and the
evolutionary search with functional hashing off.  Prints, per op count, the
best error of each, the minimax polynomial of equal op count beside it (when
the baselines module is available), and the wall time at which each figure was
first reached; then the gain of each part as a ratio of times to reach the
same error.  With --seeds N every arm runs N times (seeds seed..seed+N-1): the
table shows medians over seeds, the gains are taken per (cost, seed) pair,
the full search and its ablation paired by seed.

    python benchmarks/discovery.py runs/exp2_quick.yaml --seconds 120 --workers 2 --seeds 3
    python benchmarks/discovery.py runs/exp2_real.yaml --seconds 1800 --workers 0 --seed 1 --no-ablations \
        --bar 10:3.5e-15      # issue 10's bar: per seed, met or not, when, and the program
"""
from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numsearch.search.backend import make_backend  # noqa: E402
from numsearch.search.driver import run_search  # noqa: E402
from numsearch.search.engine import Search  # noqa: E402
from numsearch.search.random_search import RandomSearch  # noqa: E402
from numsearch.search.spec import load_spec  # noqa: E402


class Trace:
    """Best error per cost over time: history[cost] = [(t, err), ...] improvements."""

    def __init__(self):
        self.history: dict = {}
        self.programs: dict = {}     # cost -> the best program's text

    def __call__(self, t, search):
        for ind in search.archive.best.values():
            h = self.history.setdefault(ind.cost, [])
            if not h or ind.error < h[-1][1]:
                h.append((t, ind.error))
                self.programs[ind.cost] = ind.program.text()

    def best_at_or_below(self, cost):
        pts = [p for c, h in self.history.items() if c <= cost for p in h]
        return min((e for _, e in pts), default=float("inf"))

    def time_to(self, cost, err):
        """First time any program of cost <= ``cost`` had error <= err."""
        ts = [t for c, h in self.history.items() if c <= cost for t, e in h if e <= err * (1 + 1e-9)]
        return min(ts, default=None)


def run(spec, cls, workers, address, label):
    backend = make_backend(replace(spec, workers=workers), address)
    tr = Trace()
    stats, _ = run_search(spec, backend, None, echo=lambda s: None, search_cls=cls, observer=tr)
    print(f"  {label:<22} {stats.evaluations:>7} evaluations  {stats.evals_per_second:6.1f}/s  "
          f"hash saved {100 * stats.hash_saved_fraction:4.1f}%", flush=True)
    return tr


def minimax_by_ops(task, max_ops):
    from numsearch.evaluators.baselines import best_baseline_by_ops
    return {k: b.error for k, b in best_baseline_by_ops(task, max_ops, methods=("minimax",)).items()}


def fmt_t(t):
    return "-" if t is None else f"{t:.0f}s"


SAME = 0.01  # errors within 1% of each other count as a tie (fitting noise)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def gains(full: list, abl: list, costs) -> tuple[list, list, list]:
    """Per (cost, seed), paired by seed: ratios of time to reach the ablation's
    best error (ablation / full), and the pairs where only one side got there."""
    ratios, full_only, abl_only = [], [], []
    for i, (f, a) in enumerate(zip(full, abl)):
        for c in costs:
            ea, ef = a.best_at_or_below(c), f.best_at_or_below(c)
            if ef < ea * (1 - SAME):
                full_only.append((c, i))
            elif ea < ef * (1 - SAME):
                abl_only.append((c, i))
            if ea < float("inf"):
                t_full, t_abl = f.time_to(c, ea), a.time_to(c, ea)
                if t_full and t_abl:
                    ratios.append(t_abl / t_full)
    return ratios, full_only, abl_only


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--address")
    ap.add_argument("--seed", type=int, help="first seed (default: the spec's)")
    ap.add_argument("--seeds", type=int, default=1, help="runs per arm, seeds seed, seed+1, ...")
    ap.add_argument("--no-ablations", action="store_true")
    ap.add_argument("--bar", action="append", default=[], metavar="COST:ERROR",
                    help="report per seed whether (and when) error <= ERROR was reached at <= COST ops, with "
                         "the program (repeatable; e.g. --bar 10:3.5e-15)")
    a = ap.parse_args(argv)
    bars = []
    for b in a.bar:
        try:
            c, e = b.split(":")
            bars.append((float(c), float(e)))
        except ValueError:
            ap.error(f"--bar: expected COST:ERROR, got {b!r}")
    spec = load_spec(a.spec)
    spec = replace(spec, budget=replace(spec.budget, seconds=a.seconds, stop_when=()))
    first = spec.seed if a.seed is None else a.seed
    seeds = list(range(first, first + a.seeds))
    arms = {"evolution + hashing": (spec, Search)}
    if not a.no_ablations:
        arms["random search"] = (spec, RandomSearch)
        arms["no hashing"] = (replace(spec, search=replace(spec.search, hashing=False)), Search)
    print(f"discovery: {spec.name}: {spec.task.describe()}, budget {a.seconds:g}s per run, {a.workers} workers, "
          f"seeds {seeds}")
    traces = {name: [run(replace(sp, seed=s), cls, a.workers, a.address, f"{name}, seed {s}") for s in seeds]
              for name, (sp, cls) in arms.items()}
    full, names = traces["evolution + hashing"], [n for n in arms if n != "evolution + hashing"]
    costs = sorted({c for t in full for c in t.history if c <= spec.search.max_ops})
    base = minimax_by_ops(spec.task, spec.search.max_ops)
    many = len(seeds) > 1
    print()
    if many:
        print(f"median over {len(seeds)} seeds of the best error at <= cost, and of the time it was first reached")
    head = f"{'ops':>3}  {'best error':>10} {'first at':>8}  {'minimax poly':>12} {'gain':>8}"
    for n in names:
        head += f"  {n:>14} {'first at':>8}"
    print(head)
    for c in costs:
        e = median([t.best_at_or_below(c) for t in full])
        t = median([t.time_to(c, t.best_at_or_below(c)) for t in full])
        b = base.get(c)
        row = f"{c:>3g}  {e:>10.3e} {fmt_t(t):>8}  " + (f"{b:>12.3e} {b / e:>7.3g}x" if b else f"{'-':>12} {'-':>8}")
        for n in names:
            ea = median([t.best_at_or_below(c) for t in traces[n]])
            ta = median([t.time_to(c, t.best_at_or_below(c)) for t in traces[n]])
            row += f"  {ea:>14.3e} {fmt_t(ta):>8}"
        print(row)
    print()
    for c, e in bars:
        met = [t.time_to(c, e) for t in full]
        print(f"bar: <= {c:g} ops at <= {e:.3g}: met in {sum(m is not None for m in met)} of {len(seeds)} seeds")
        for s_, t, m in zip(seeds, full, met):
            best = min((k for k in t.programs if k <= c), key=lambda k: t.history[k][-1][1], default=None)
            print(f"  seed {s_}: best {t.best_at_or_below(c):.4g}" + (f", met at {m:.0f}s" if m is not None else
                                                                      ", not met"))
            if best is not None:
                print("    " + t.programs[best].replace("\n", "\n    "))
    if bars:
        print()
    for n in names:
        ratios, full_only, abl_only = gains(full, traces[n], costs)
        pairs = len(costs) * len(seeds)
        if ratios:
            print(f"gain over {n}: time to reach {n}'s best error at each (cost, seed), {n} / full: "
                  f"median {median(ratios):.1f}x over {len(ratios)} pairs "
                  f"(quartiles {statistics.quantiles(ratios, n=4)[0]:.1f}x .. "
                  f"{statistics.quantiles(ratios, n=4)[2]:.1f}x)" if len(ratios) > 1 else
                  f"gain over {n}: {ratios[0]:.1f}x (1 pair)")
        print(f"  better error (by > {SAME:.0%}) within the budget: full search at {len(full_only)} of {pairs} (cost, seed) pairs, "
              f"{n} at {len(abl_only)}" + (f" ({', '.join(f'{c:g} ops seed {seeds[i]}' for c, i in abl_only)})"
                                            if abl_only else ""))


if __name__ == "__main__":
    main()
