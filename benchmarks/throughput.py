"""Evaluator throughput: candidate evaluations per second per core, the NumPy
reference path against the compiled kernels, on the children a real search
breeds; then through Ray actors.

Breeds --n children (mutations of the programs of a front.json, or of random
programs for 2^x on [0, 1] in --format) and evaluates each one twice in this process, interleaved (the
order alternating child by child): once with the kernels off (NumPy
interpreter, NumPy LM, ``scipy.optimize.linprog``: the reference) and once
with them on, each path with its own evaluator seeded alike, so both fit the
same children from the same starts.  Prints evaluations/s of each path, the
ratio (overall, and median and range over blocks of --block children) and the
change of the fitted errors over the usable fits, those whose reference
error is below 1 (compiled / reference - 1: median, the worst in each
direction, the share within 1.2%).  With --workers N > 0, then times the compiled path
through Ray with 1 and N actors (batches of --batch).

    python benchmarks/throughput.py --front runs/exp2_real.front.json --n 400 --workers 2
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.task import Task  # noqa: E402
from numsearch.primitives import kernels  # noqa: E402
from numsearch.search.evaluate import Evaluator  # noqa: E402
from numsearch.search.fitting import warm_up  # noqa: E402
from numsearch.search.mutation import MutationContext, mutate, random_program  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402


def children(front_path, n, rng, ctx, fmt="real"):
    if front_path:
        doc = json.loads(Path(front_path).read_text())
        parents = [parse_program(r["program"]) for r in doc["front"] if r["ops"] >= 3]
        task = Task(doc["target"], *map(float, doc["interval"]), format=doc["format"], metric=doc["metric"])
    else:
        parents = [random_program(rng, ctx, int(rng.integers(3, 9))) for _ in range(20)]
        task = Task("exp2", 0.0, 1.0, format=fmt)
    kids = [mutate(parents[i % len(parents)], rng, ctx) for i in range(n)]
    return task, kids


def _timed(ev, kid, on):
    with kernels.use_kernels(on):
        t = time.perf_counter()
        r = ev.evaluate_one(kid)
        return time.perf_counter() - t, r


def compare(task, kids, block):
    """Interleaved reference / compiled evaluation of the same children."""
    ref, fast = Evaluator(task, 1), Evaluator(task, 1)
    for on, ev in ((False, ref), (True, fast)):
        with kernels.use_kernels(on):
            ev.evaluate(kids[:2])  # warm-up (imports, caches, compiled code)
    ref.rng, fast.rng = np.random.default_rng(1), np.random.default_rng(1)
    tr, tf, change = [], [], []
    for i, kid in enumerate(kids):
        if i % 2 == 0:
            (a, ra), (b, rb) = _timed(ref, kid, False), _timed(fast, kid, True)
        else:
            (b, rb), (a, ra) = _timed(fast, kid, True), _timed(ref, kid, False)
        tr.append(a)
        tf.append(b)
        if 0 < ra.error < 1 and np.isfinite(rb.error):  # a usable fit (error < 100%)
            change.append(rb.error / ra.error - 1)
    ratios = [sum(tr[i:i + block]) / sum(tf[i:i + block]) for i in range(0, len(kids) - block + 1, block)]
    return tr, tf, ratios, change


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--front")
    ap.add_argument("--format", default="real", help="without --front: the format of the exp2 task")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--block", type=int, default=20, help="children per block for the ratio's spread")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--workers", type=int, default=0, help="also time Ray with 1 and this many actors")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    task, kids = children(a.front, a.n, rng, MutationContext(), a.format)
    print(f"throughput: {task.describe()}, {len(kids)} children, median ops {statistics.median(k.ops for k in kids):g}")
    t0 = time.perf_counter()
    if not warm_up():
        sys.exit("the compiled kernels are not available (numba missing, or NUMSEARCH_KERNELS=0)")
    print(f"  kernels ready (compiled or loaded from numba's cache) in {time.perf_counter() - t0:.1f}s")
    tr, tf, ratios, change = compare(task, kids, a.block)
    for name, t in (("reference (NumPy, linprog)", tr), ("compiled kernels", tf)):
        print(f"  {name:27s} {len(t) / sum(t):7.1f} evals/s per core, median {1e3 * statistics.median(t):6.2f} ms "
              f"per candidate")
    print(f"  ratio compiled / reference: {sum(tr) / sum(tf):.1f}x overall; over {len(ratios)} blocks of {a.block}: "
          f"median {statistics.median(ratios):.1f}x, range {min(ratios):.1f}x to {max(ratios):.1f}x")
    if change:
        c = np.array(change)
        print(f"  fitted error, compiled / reference - 1, over the {len(c)} usable fits (reference error in (0, 1)): "
              f"median {np.median(c):+.2e}, worst increase {c.max():+.2%}, largest decrease {c.min():+.2%}; "
              f"identical {np.mean(c == 0):.0%}, |change| <= 1.2% for {np.mean(np.abs(c) <= 0.012):.1%} "
              f"({np.sum(c > 0.012)} worse, {np.sum(c < -0.012)} better)")
    if a.workers > 0:
        ray_rates(task, kids, a.batch, a.workers, len(kids) / sum(tf))


def ray_rates(task, kids, batch, workers, serial):
    from numsearch.search.ray_driver import RayBackend
    for w in sorted({1, workers}):
        be = RayBackend(task, w, 0)
        batches = [kids[i:i + batch] for i in range(0, len(kids), batch)]
        for _ in range(w):
            be.submit(batches[0][:2])
        for _ in range(w):
            be.next_done()  # actors are up and warm
        t0 = time.perf_counter()
        nxt = 0
        while nxt < len(batches) and be.pending() < be.slots:
            be.submit(batches[nxt])
            nxt += 1
        while be.pending():
            be.next_done()
            if nxt < len(batches):
                be.submit(batches[nxt])
                nxt += 1
        rate = len(kids) / (time.perf_counter() - t0)
        be.close()
        print(f"  Ray (compiled), {w} actor(s), batches of {batch}: {rate:7.1f} evals/s "
              f"({rate / serial:.2f}x in-process)")


if __name__ == "__main__":
    main()
