import csv
from pathlib import Path

import numpy as np
import pytest

from numsearch.evaluators.task import Task, TaskData
from numsearch.search.fitting import FitConfig, fit_constants
from numsearch.primitives.program import parse_program

ANCHORS = Path(__file__).resolve().parent / "data" / "classical_polynomials.csv"   # Sollya figures


def horner(deg):
    lines = [f"c{i} = 1.0" for i in range(deg + 1)]
    prev, v = f"c{deg}", 0
    for d in range(deg - 1, -1, -1):
        lines += [f"v{v} = mul({prev}, x)", f"v{v + 1} = add(v{v}, c{d})"]
        prev, v = f"v{v + 1}", v + 2
    return parse_program("\n".join(lines + [f"return {prev}"]))


def anchor(deg):
    with open(ANCHORS) as fh:
        return next(float(r["max_error"]) for r in csv.DictReader(fh)
                    if r["function"] == "exp2_0_1" and r["method"] == "minimax_poly_rel" and int(r["degree"]) == deg)


@pytest.mark.parametrize("deg", [2, 3, 4])
def test_fitter_recovers_minimax_polynomials(deg):
    task = Task("exp2", 0.0, 1.0, fit_points=256, score_points=4096)
    d = TaskData(task)
    c, _ = fit_constants(horner(deg), (d.x_fit, d.ref_fit[0], d.w_fit), d.ref_fit, np.random.default_rng(0),
                         FitConfig(starts=2))
    err = d.error(horner(deg).with_consts(c))
    assert abs(err - anchor(deg)) / anchor(deg) < 0.05


def test_fitter_improves_rational_from_parent_constants():
    task = Task("exp2", 0.0, 1.0)
    d = TaskData(task)
    p = parse_program("c0 = 3.0\nc1 = -3.0\nv0 = add(x, c0)\nv1 = sub(c1, x)\nv2 = div(v0, v1)\nreturn v2")
    before = d.error(p)
    c, e = fit_constants(p, (d.x_fit, d.ref_fit[0], d.w_fit), d.ref_fit, np.random.default_rng(1))
    # (x + a)/(b - x): the symmetric a = b family bottoms out at 6.9e-3; minimax is 5.29e-3
    assert d.error(p.with_consts(c)) < 5.4e-3 < 6.9e-3 < before


def test_fit_never_returns_worse_than_the_given_constants():
    """A (4,4) rational of 2^x in continued-fraction form at its 1e-14 optimum:
    float64 residuals are noise at that level, so the answer is judged in
    double-double and is never worse than the constants it was given."""
    from numsearch.evaluators.baselines import baseline_programs
    task = Task("exp2", 0.0, 1.0)
    prog = next(b.program for b in baseline_programs(task, 12, ["rational_cf"]) if b.size == (4, 4))
    d = TaskData(task)
    fx = (d.x_fit, d.ref_fit[0], d.w_fit)
    given = fit_constants(prog, fx, d.ref_fit, np.random.default_rng(0), FitConfig(starts=1, lm_iters=0,
                                                                                 lawson_iters=0), polish=False)[1]
    assert given < 3e-14
    for seed in range(3):
        c, e = fit_constants(prog, fx, d.ref_fit, np.random.default_rng(seed), polish=False)
        assert e <= given and d.error(prog.with_consts(c)) < 3e-14


def test_polish_works_at_errors_near_1e_14():
    """The SLP's LP stays well scaled when the error is ~1e-14: a (4,4) continued
    fraction of 2^x knocked off its optimum (to a few 1e-14) is brought back."""
    from numsearch.evaluators.baselines import baseline_programs
    from numsearch.search.fitting import polish
    task = Task("exp2", 0.0, 1.0)
    prog = next(b.program for b in baseline_programs(task, 12, ["rational_cf"]) if b.size == (4, 4))
    d = TaskData(task)
    best = d.error(prog)
    c = np.array(prog.consts)
    c[5] *= 1 + 3e-13  # the innermost numerator: the error goes to ~7x its optimum
    knocked = prog.with_consts(c)
    assert d.error(knocked) > 3 * best
    fx = (d.x_fit, d.ref_fit[0], d.w_fit)
    c2, _ = polish(knocked, fx, d.ref_fit)
    assert d.error(prog.with_consts(c2)) < 1.2 * best
