"""The same search with the compiled kernels off (the NumPy reference path:
interpreter, NumPy LM, ``linprog``) and on: evaluations per second and the
fronts reached, for a fixed number of evaluations and several seeds.

Each seed runs the spec in this process (no Ray, so a run is deterministic)
to --evaluations evaluations (its time budget and ``stop_when`` lifted), once
per path, the two paths alternating.  Prints, per seed and path, evals/s and
the front (best error by cost); then the speed ratio (median and range over
seeds) and, per cost c, compiled / reference of the best error at cost <= c
(median over seeds, range, and the seeds where compiled is better / worse).

    python benchmarks/search_speed.py runs/exp2_quick.yaml --evaluations 600 --seeds 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numsearch.primitives import kernels  # noqa: E402
from numsearch.search.api import run, spec  # noqa: E402
from numsearch.search.fitting import warm_up  # noqa: E402


def one(s, on):
    with kernels.use_kernels(on):
        t = time.perf_counter()
        front = run(s)
        el = time.perf_counter() - t
    best = {}
    for e in front.entries:
        if e.id is not None:
            best[int(e.cost)] = min(best.get(int(e.cost), float("inf")), e.error)
    return el, best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec")
    ap.add_argument("--evaluations", type=int, default=600)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    base = spec(a.spec)
    if not warm_up():
        sys.exit("the compiled kernels are not available (numba missing, or NUMSEARCH_KERNELS=0)")
    print(f"search_speed: {a.spec}, {a.evaluations} evaluations in process, seeds {a.seed}..{a.seed + a.seeds - 1}")
    ratios, errs, envs = [], {}, {}
    for seed in range(a.seed, a.seed + a.seeds):
        s = replace(base, workers=0, seed=seed,
                    budget=replace(base.budget, seconds=1e9, evaluations=a.evaluations, stop_when=()))
        res = {}
        for on in ((False, True) if seed % 2 == 0 else (True, False)):
            res[on] = one(s, on)
        for on, name in ((False, "reference"), (True, "compiled ")):
            el, best = res[on]
            front = "  ".join(f"{c}:{e:.2e}" for c, e in sorted(best.items()))
            print(f"  seed {seed} {name} {a.evaluations / el:7.1f} evals/s  front {front}")
        ratios.append(res[False][0] / res[True][0])
        for c in sorted(set(res[False][1]) | set(res[True][1])):
            env = [min(e for cc, e in res[on][1].items() if cc <= c) for on in (False, True)]
            envs.setdefault(c, []).append(env)
            if env[0] > 0:
                errs.setdefault(c, []).append(env[1] / env[0])
    print(f"  speed ratio compiled / reference: median {statistics.median(ratios):.1f}x, "
          f"range {min(ratios):.1f}x to {max(ratios):.1f}x over {len(ratios)} seeds")
    print("  best error at cost <= c: median over seeds, reference and compiled; compiled / reference per seed:"
          " median [range] (seeds where compiled is better / worse by > 1.2%)")
    for c, v in sorted(errs.items()):
        med = [statistics.median(e[i] for e in envs[c]) for i in (0, 1)]
        print(f"    {c}: {med[0]:.3g} {med[1]:.3g}   {statistics.median(v):.3g} [{min(v):.3g}, {max(v):.3g}] "
              f"({sum(r < 1 / 1.012 for r in v)}/{sum(r > 1.012 for r in v)} of {len(v)})")


if __name__ == "__main__":
    main()
