"""Continued-fraction chains: recognised in any sign and order, fitted from Euclid."""
from __future__ import annotations

import numpy as np
import pytest

from numsearch.evaluators.baselines import baseline_programs
from numsearch.search.chain import chain_of, chain_start
from numsearch.evaluators.task import Task
from numsearch.search.evaluate import Evaluator
from numsearch.search.fitting import FitConfig
from numsearch.search.mutation import merges
from numsearch.primitives.program import Instr, Program, parse_program

TASK = Task("exp2", 0.0, 1.0, score_points=1024, verify_points=2048)


@pytest.fixture(scope="module")
def cf():
    """The rational_cf baselines of 2^x on [0, 1], by type."""
    return {b.size: b for b in baseline_programs(TASK, 12, methods=["rational_cf"])}


def _ones(body: str, k: int = 5) -> Program:
    """Program text ``body`` with constants c0..c(k-1) all 1.0."""
    return parse_program("\n".join(f"c{i} = 1.0" for i in range(k)) + "\n" + body)


def _start_error(ev, p):
    st = chain_start(p, TASK.target, TASK.lo, TASK.hi, True, True)
    assert st is not None
    return ev.data.error(p.with_consts(st))


def _squared(p: Program, k: int) -> Program:
    instrs, out = list(p.instrs), p.out
    for _ in range(k):
        instrs.append(Instr("mul", (out, out)))
        out = f"v{len(instrs) - 1}"
    return Program(p.consts, tuple(instrs), out)


@pytest.mark.parametrize("size", [(0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4)])
def test_continued_fractions_are_chains(cf, size):
    ch = chain_of(cf[size].program)
    assert ch is not None and ch.depth == size[1] and ch.has_a == (size[0] == size[1]) and ch.squarings == 0


@pytest.mark.parametrize("text", [
    "return x",
    "c0 = 1.0\nv0 = mul(x, c0)\nv1 = div(c0, v0)\nreturn v1",          # c/(c*x): x scaled, not shifted
    "c0 = 1.0\nv0 = add(x, c0)\nv1 = div(v0, x)\nreturn v1",            # numerator not a constant
    "c0 = 1.0\nv0 = add(x, x)\nv1 = div(c0, v0)\nreturn v1",            # 2x
    "c0 = 1.0\nv0 = add(x, c0)\nv1 = mul(v0, v0)\nv2 = add(v1, x)\nreturn v2",  # polynomial
])
def test_other_programs_are_not_chains(text):
    assert chain_of(parse_program(text)) is None


def test_start_is_the_rational_minimax_from_any_constants(cf):
    ev = Evaluator(TASK)
    for size in [(1, 1), (2, 2), (3, 3), (4, 4)]:
        p = cf[size].program
        junk = p.with_consts(np.random.default_rng(1).normal(0, 3, len(p.consts)))
        assert _start_error(ev, junk) == pytest.approx(ev.data.error(p), rel=1e-6)


def test_signs_and_order_of_the_sums(cf):
    """a - b/(s - x - d/(x + t)): the same (2,2) family with other signs."""
    p = _ones("""v0 = sub(c0, x)
v1 = add(x, c1)
v2 = div(c2, v1)
v3 = sub(v0, v2)
v4 = div(c3, v3)
v5 = sub(c4, v4)
return v5""")
    ch = chain_of(p)
    assert ch is not None and (ch.depth, ch.has_a) == (2, True)
    ev = Evaluator(TASK)
    assert _start_error(ev, p) == pytest.approx(ev.data.error(cf[2, 2].program), rel=1e-6)


def test_shared_shift_starts_at_the_mean(cf):
    """Merging the (4,4) fraction's equal shifts (all -1/2 for 2^x on [0,1]) keeps its error."""
    ev = Evaluator(TASK)
    full = cf[4, 4].program
    merged = [q for q in merges(full)]
    assert merged
    twice = [r for q in merged for r in merges(q)]
    best = min(_start_error(ev, q) for q in twice)
    assert best < 1.05 * ev.data.error(full)


def test_squarings_fit_the_root(cf):
    """(3,3) fraction squared twice starts from the (3,3) minimax of 2^(x/4)."""
    ev = Evaluator(TASK)
    p = _squared(cf[3, 3].program, 2)
    ch = chain_of(p)
    assert ch is not None and ch.squarings == 2
    assert _start_error(ev, p) < 1e-13 < ev.data.error(cf[3, 3].program) / 100


def test_no_root_of_a_function_that_is_not_positive(cf):
    p = _squared(cf[2, 2].program, 1)
    assert chain_start(p, "sin", -1.0, 1.0, False, positive=False) is None


def test_evaluator_fits_a_chain_bred_with_bad_constants(cf):
    """Random starts alone leave a (3,3) chain far from its best (fit's Jacobian is
    near singular); with the Euclid start the evaluator reaches the minimax."""
    p = cf[3, 3].program
    junk = p.with_consts(np.random.default_rng(3).normal(0, 3, len(p.consts)))
    ev = Evaluator(Task("exp2", 0.0, 1.0, score_points=1024), seed=0, fit=FitConfig(starts=2))
    assert ev.evaluate_one(junk).error < 1.01 * cf[3, 3].error


def test_sums_of_several_constants(cf):
    """a - b/(u + c1 - c2/u), u = x + c4 (as a run bred it): u's constant is in both
    levels' shifts, c1 only in the first; the start solves for both."""
    p = _ones("""v0 = add(x, c4)
v1 = div(c2, v0)
v2 = sub(v0, v1)
v3 = add(v2, c1)
v4 = div(c0, v3)
v5 = sub(c3, v4)
return v5""")
    ch = chain_of(p)
    assert ch is not None and (ch.depth, ch.has_a) == (2, True)
    assert sorted(i for role, _, terms in ch.rows if role == "s" for i, _ in terms) == [1, 4, 4]
    ev = Evaluator(TASK)
    assert _start_error(ev, p) == pytest.approx(ev.data.error(cf[2, 2].program), rel=1e-6)


def test_infinite_constants_do_not_spoil_the_start(cf):
    p = cf[2, 2].program
    bad = p.with_consts([float("inf")] + list(p.consts[1:]))
    st = chain_start(bad, TASK.target, TASK.lo, TASK.hi, True, True)
    assert st is not None and np.all(np.isfinite(st))
