"""The fitter's valley search (``fitting._valley``) on AutoNumerics-Zero's
10-op structure for 2^x on [0, 1]: y^8, y = c3 / (s + c2 + c1 / s) - c4,
s = x + c0 / x (s used twice).  Its good constants lie along a flat valley
(c1 ~ c0^2, c2 and c3 ~ c0, with c0 in the thousands), which plain LM from
naive constants does not follow (2.2e-4 from all-ones)."""
from pathlib import Path

import numpy as np

from numsearch.evaluators.task import Task
from numsearch.primitives.program import parse_program
from numsearch.search.evaluate import Evaluator
from numsearch.search.fitting import FitConfig

ANZ10 = (Path(__file__).parent / "data" / "anz10_exp2.txt").read_text()


def _fit(cfg):
    task = Task("exp2", 0.0, 1.0, score_points=2048)
    ev = Evaluator(task, 0, cfg)
    ev._schain_start = lambda prog: None   # the valley search on its own (tests/test_schain.py: the start from theory)
    return ev.evaluate_one(parse_program(ANZ10))


def test_valley_search_fits_the_reused_subexpression_structure_from_all_ones():
    without = _fit(FitConfig(valley_rounds=0))
    got = _fit(FitConfig())
    assert without.error > 1e-5          # plain LM + SLP stops in the wrong region
    assert got.error < 1e-6              # with the start from theory: 2.4e-15 (tests/test_schain.py)
    c = np.abs(got.program.consts)
    assert c[0] > 100                    # it went down the valley, to large constants


def test_valley_search_keeps_an_optimum():
    """At a well-conditioned optimum (a minimax polynomial) nothing changes for the worse."""
    from numsearch.evaluators.baselines import baseline_programs
    task = Task("exp2", 0.0, 1.0)
    prog = next(b.program for b in baseline_programs(task, 8, ["minimax"]) if b.size == 3)
    ev = Evaluator(task, 0)
    before = ev.data.error(prog)
    assert ev.evaluate_one(prog).error <= before * (1 + 1e-6)
