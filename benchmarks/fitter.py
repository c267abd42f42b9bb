"""The constant fitter on structures whose best constants are known.

Every fit goes the way a search's does: ``Evaluator.evaluate_one`` (the
fitter's starts, LM/Lawson, the theory start where it applies, the SLP
minimax polish, then scoring on the task's grid in the task's format), here
with no ``bests`` so every candidate is polished.  For each structure it
prints the known optimum's error (the baselines' mpmath fits, scored the same
way), then the error reached from

- naive constants (all 1.0),
- R random starts (``--starts``; seeded, the same for every fitter:
  magnitudes log-uniform in [1e-2, 1e2], random signs): best, median, worst,
- the optimum perturbed by 10% and by 0.1% (each constant times 1 + p u,
  u uniform in [-1, 1], seeded; median of 3 draws),

and the median wall time of one fit.  Structures:

- ``horner5``: a degree-5 polynomial in Horner form, e^x on [-ln2/2, ln2/2],
  relative; optimum: the minimax polynomial (Remez, ``baselines``).
- ``cf33``: a type (3, 3) rational as a continued fraction, log on
  [1/sqrt 2, sqrt 2], absolute; optimum: the rational minimax (``rational_cf``).
- ``anz10``: AutoNumerics-Zero's 10-op program for 2^x on [0, 1], relative,
  y^8 with y = c3 / (s + c2 + c1 / s) - c4, s = x + c0 / x (s used twice).
  Its value is a rational of type (4, 4) in x with five constants, a chain in
  s (``chain.schain_of``): the fit starts from the rational minimax of type
  (4, 4) of 2^(x/8) mapped onto the family (``chain.schain_start``) and
  follows it by a trust region in relative steps (``fitting.trust_fit``).
  Known optimum: the published 3.5e-15; the best constants known
  (``ANZ10_BEST``, found that way from all-ones) give 2.42e-15 in mpmath at
  50 digits (``--mpcheck``).  What they look like: c4 = -1 and c3 = -2 c2, so
  y = P(s) / P(-s) with P(s) = s^2 - c2 s + c1; c0 is near 5800.
- ``s10``: the same family centred and squared twice, not three times,
  y^4 with y = c4 + c5 / (s + c2 + c3 / s), s = u + c1 / u, u = x + c0 (u and
  s each used twice), also 10 ops: 2.78e-15 at the file's constants (a
  least-squares and Lawson fit in 40-digit mpmath from the [4/4] Pade of
  2^(x/4) at 1/2), 2.83e-15 fitted here from all-ones.  The pole of c1 / u
  sits inside the interval, at x = -c0, where the value is the limit c4^4
  (exactly so in IEEE arithmetic).
  Before ``trust_fit``, LM from the same start stopped at 7.7e-11: its first
  steps (Marquardt damping from 1e-3) land in another least-squares minimum
  (rms 4.2e-11), where more iterations or other damping change nothing.

    python benchmarks/fitter.py [--starts 12] [--seed 0] [--only anz10] [--mpcheck] [--json]
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.baselines import BASELINES, Problem, cached_fit  # noqa: E402
from numsearch.evaluators.contfrac import cf_program  # noqa: E402
from numsearch.evaluators.horner import horner_program  # noqa: E402
from numsearch.evaluators.mpcheck import mp_max_error  # noqa: E402
from numsearch.evaluators.targets import Target  # noqa: E402
from numsearch.evaluators.task import Task  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402
from numsearch.search.evaluate import Evaluator  # noqa: E402
from numsearch.search.fitting import warm_up  # noqa: E402

ANZ10 = (Path(__file__).resolve().parents[1] / "tests" / "data" / "anz10_exp2.txt").read_text()
ANZ10_PUBLISHED = 3.5e-15
# the best constants known to this benchmark (2.42e-15, mpmath at 50 digits over 4000 points): the
# fit from all-ones through the chain-in-s start and the trust region (``Evaluator.evaluate_one``)
ANZ10_BEST: tuple = ("0x1.69785c03a027dp+12", "0x1.d92f52c98ee2ep+13", "-0x1.f51aa21e4b586p+7",
                     "0x1.f51aa21e6e3bfp+8", "-0x1.ffffffffffffep-1")


S10 = (Path(__file__).resolve().parents[1] / "tests" / "data" / "s10_exp2.txt").read_text()
S10_KNOWN = 2.7825e-15     # its constants, mpmath at 50 digits over 4001 points of [0, 1]


def structures():
    """(name, task, program at its known optimum, known optimum error, how it is known)."""
    out = []
    t = Task("exp", -math.log(2) / 2, math.log(2) / 2, score_points=2048)
    fit = cached_fit(Problem(t.target, t.lo, t.hi, True, "float64"), BASELINES["minimax"], 5)
    out.append(("horner5", t, horner_program(fit.num, None, "real"), fit.exact_error, "Remez minimax poly"))
    t = Task("log", 1 / math.sqrt(2), math.sqrt(2), metric="absolute", score_points=2048)
    fit = cached_fit(Problem(t.target, t.lo, t.hi, False, "float64"), BASELINES["rational_minimax"], (3, 3))
    out.append(("cf33", t, cf_program(fit.num, fit.den, "real"), fit.exact_error, "rational minimax (3,3)"))
    t = Task("exp2", 0.0, 1.0, score_points=2048)
    p = parse_program(ANZ10)
    if ANZ10_BEST:
        p = p.with_consts([float.fromhex(h) for h in ANZ10_BEST])
    out.append(("anz10", t, p, ANZ10_PUBLISHED, "published (mpmath, 50 digits)"))
    out.append(("s10", t, parse_program(S10), S10_KNOWN, "40-digit fit (mpmath, 50 digits)"))
    return out


def _random(rng, k):
    return rng.choice([-1.0, 1.0], k) * 10 ** rng.uniform(-2, 2, k)


def run_structure(name, task, opt, known, starts, seed):
    c_opt = np.array(opt.consts)
    k = len(c_opt)
    times: list = []
    ev = Evaluator(task, seed)
    opt_grid = ev.data.error(opt)

    def fit(c, s):
        e = Evaluator(task, seed + 1000 * s)
        e.data = ev.data                  # the same arrays (built once)
        t0 = time.perf_counter()
        r = e.evaluate_one(opt.with_consts(np.asarray(c, dtype=float)))
        times.append(time.perf_counter() - t0)
        return float(r.error)

    rng = np.random.default_rng(seed)
    ones = fit(np.ones(k), 0)
    rand = sorted(fit(_random(rng, k), i + 1) for i in range(starts))
    pert = {}
    for p in (0.1, 1e-3):
        prng = np.random.default_rng(seed + 7)
        pert[p] = statistics.median(fit(c_opt * (1 + p * prng.uniform(-1, 1, k)), 100 + j) for j in range(3))
    return dict(structure=name, target=task.target, interval=[task.lo, task.hi], metric=task.metric,
                constants=k, ops=opt.ops, known=known, optimum_on_grid=opt_grid,
                ones=ones, random_best=rand[0], random_median=statistics.median(rand), random_worst=rand[-1],
                perturbed_10pct=pert[0.1], perturbed_0p1pct=pert[1e-3],
                fit_seconds_median=statistics.median(times), fits=len(times))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=12, help="random starts per structure (default 12)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", action="append", help="structure name (repeatable)")
    ap.add_argument("--mpcheck", action="store_true", help="also re-check anz10's and s10's best constants in mpmath")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of the table")
    a = ap.parse_args(argv)
    warm_up()
    rows = []
    for name, task, opt, known, how in structures():
        if a.only and name not in a.only:
            continue
        row = run_structure(name, task, opt, known, a.starts, a.seed)
        row["known_from"] = how
        if a.mpcheck and (name == "s10" or name == "anz10" and ANZ10_BEST):
            row["best_known_mpmath"] = float(mp_max_error(opt, Target(task.target), task.lo, task.hi, 4000))
        rows.append(row)
    if a.json:
        print(json.dumps(rows, indent=1))
        return rows
    print(f"constant fitter: Evaluator.evaluate_one (every fit polished); {a.starts} random starts, seed {a.seed}")
    print("errors: max over the task's scoring grid (2048 points), in the task's format (real = double-double)")
    head = ("structure", "k", "known opt", "opt@grid", "all-ones", "rand best", "rand med", "rand worst",
            "opt+-10%", "opt+-0.1%", "ms/fit")
    print("{:<9} {:>2} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>7}".format(*head))
    for r in rows:
        print("{:<9} {:>2} {:>9.2e} {:>9.2e} {:>9.2e} {:>9.2e} {:>9.2e} {:>10.2e} {:>9.2e} {:>9.2e} {:>7.1f}".format(
            r["structure"], r["constants"], r["known"], r["optimum_on_grid"], r["ones"], r["random_best"],
            r["random_median"], r["random_worst"], r["perturbed_10pct"], r["perturbed_0p1pct"],
            1e3 * r["fit_seconds_median"]))
    for r in rows:
        extra = f"; best known constants, mpmath: {r['best_known_mpmath']:.3e}" if "best_known_mpmath" in r else ""
        print(f"  {r['structure']}: {r['target']} on [{r['interval'][0]:.6g}, {r['interval'][1]:.6g}], "
              f"{r['metric']}; known optimum: {r['known_from']}{extra}")
    return rows


if __name__ == "__main__":
    main()
