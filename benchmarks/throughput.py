"""Evaluator throughput: candidate evaluations per second, in process and
through Ray actors, on the children a real search breeds.

Breeds --n children (mutations of the programs of a front.json, or of random
programs), then times the same batches (a) in this process, (b) through Ray
with 1 and with --workers actors, and prints evaluations/s and the median
time per candidate.

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
from numsearch.search.evaluate import Evaluator  # noqa: E402
from numsearch.search.mutation import MutationContext, mutate, random_program  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402


def children(front_path, n, rng, ctx):
    if front_path:
        doc = json.loads(Path(front_path).read_text())
        parents = [parse_program(r["program"]) for r in doc["front"] if r["ops"] >= 3]
        task = Task(doc["target"], *map(float, doc["interval"]), format=doc["format"], metric=doc["metric"])
    else:
        parents = [random_program(rng, ctx, int(rng.integers(3, 9))) for _ in range(20)]
        task = Task("exp2", 0.0, 1.0)
    kids = [mutate(parents[i % len(parents)], rng, ctx) for i in range(n)]
    return task, kids


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--front")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    task, kids = children(a.front, a.n, rng, MutationContext())
    print(f"throughput: {task.describe()}, {len(kids)} children, batches of {a.batch}, "
          f"median ops {statistics.median(k.ops for k in kids):g}")
    ev = Evaluator(task, 1)
    ev.evaluate(kids[:4])  # warm-up (imports, caches)
    per = []
    t0 = time.perf_counter()
    for k in kids:
        t = time.perf_counter()
        ev.evaluate_one(k)
        per.append(time.perf_counter() - t)
    serial = len(kids) / (time.perf_counter() - t0)
    print(f"  in process (no polish screening): {serial:7.1f} evals/s, median {1e3 * statistics.median(per):.1f} ms "
          f"per candidate")
    from numsearch.search.ray_driver import RayBackend
    for w in sorted({1, a.workers}):
        be = RayBackend(task, w, 0)
        batches = [kids[i:i + a.batch] for i in range(0, len(kids), a.batch)]
        be.submit(batches[0][:2])
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
        print(f"  Ray, {w} actor(s):                 {rate:7.1f} evals/s ({rate / serial:.2f}x in-process)")


if __name__ == "__main__":
    main()
