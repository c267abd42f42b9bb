"""Confirm the errors in a front.json independently: every program is
re-evaluated in mpmath (real arithmetic, --dps digits) against the target on
--n + 1 equispaced points plus the points of the Chebyshev grid, and the max
error is printed beside the figure front.json states.

    python benchmarks/confirm_front.py runs/exp2_real.front.json --n 20000 --dps 50
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numsearch.evaluators.mpcheck import mp_max_error  # noqa: E402
from numsearch.evaluators.targets import Target  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402
from numsearch.search.rundir import load_front  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("front")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--dps", type=int, default=50)
    ap.add_argument("--min-ops", type=int, default=0)
    a = ap.parse_args(argv)
    doc = load_front(a.front)
    if doc["format"] != "real":
        print(f"note: {doc['format']} programs are checked here in real arithmetic (no per-op rounding)")
    lo, hi = map(float, doc["interval"])
    t = Target(doc["target"])
    print(f"{doc['target']} on [{lo:g}, {hi:g}], {doc['metric']} error; mpmath at {a.dps} digits on {a.n + 1} points")
    print(f"{'ops':>4} {'front.json':>12} {'mpmath':>12} {'ratio':>7} {'seconds':>8}")
    for r in doc["front"]:
        if r["ops"] < a.min_ops:
            continue
        t0 = time.perf_counter()
        e = mp_max_error(parse_program(r["program"]), t, lo, hi, n=a.n, metric=doc["metric"], dps=a.dps)
        stated = float(r["error"])
        print(f"{r['ops']:>4} {stated:>12.4e} {e:>12.4e} {e / stated:>7.4f} {time.perf_counter() - t0:>8.1f}",
              flush=True)


if __name__ == "__main__":
    main()
