"""Chains in s = t + phi/t (search/chain.py: ``schain_of``, ``schain_start``) and the
trust-region fit that follows their start (``fitting.trust_fit``): AutoNumerics-Zero's 10-op
2^x structure (x + c0/x used twice, squared three times) and its centred form squared twice
(tests/data/s10_exp2.txt) fit from all-ones to under the published 3.5e-15, confirmed in
mpmath; programs outside the family are not taken for it."""
from pathlib import Path

import numpy as np
import pytest

from numsearch.evaluators.mpcheck import mp_max_error
from numsearch.evaluators.targets import Target
from numsearch.evaluators.task import Task
from numsearch.primitives.program import parse_program
from numsearch.search.chain import schain_of, schain_start
from numsearch.search.evaluate import Evaluator

DATA = Path(__file__).parent / "data"
ANZ10 = parse_program((DATA / "anz10_exp2.txt").read_text())
S10 = parse_program((DATA / "s10_exp2.txt").read_text())


def test_recognises_the_family_in_any_order_and_sign():
    a = schain_of(ANZ10)
    assert a.outer.squarings == 3 and a.outer.depth == 2 and a.u_terms == () and a.tau == 1
    s = schain_of(S10)
    assert s.outer.squarings == 2 and s.u_terms == ((0, 1),) and s.f_const == (1, 1)
    # the same value written F/u - (-u) ... : w = F/u + u with u = c0 - x (sigma_u = -1)
    flipped = parse_program(S10.text().replace("v0 = add(x, c0)", "v0 = sub(c0, x)").replace(
        "v2 = add(v0, v1)", "v2 = add(v1, v0)"))
    f = schain_of(flipped)
    assert f is not None and f.sigma_u == -1 and f.tau == -1
    # not the family: s's division by another value, or a constant in the innermost level
    assert schain_of(parse_program(S10.text().replace("v1 = div(c1, v0)", "v1 = div(c1, x)"))) is None
    inner = ("c0 = -0x1p-1\nc1 = 0x1p+10\nc2 = -0x1p+6\nc3 = 0x1p+11\nc4 = 0x1p+0\nc5 = 0x1p+8\nc6 = 0x1p+0\n"
             "v0 = add(x, c0)\nv1 = div(c1, v0)\nv2 = add(v0, v1)\nv3 = add(v2, c6)\nv4 = div(c3, v3)\n"
             "v5 = add(v2, c2)\nv6 = add(v5, v4)\nv7 = div(c5, v6)\nv8 = add(c4, v7)\nreturn v8")
    assert schain_of(parse_program(inner)) is None     # s + c6 innermost: no map onto the family
    assert schain_of(parse_program("c0 = 0x1p+0\nv0 = add(x, c0)\nv1 = div(c0, v0)\nreturn v1")) is None


def test_start_maps_the_minimax_onto_the_family():
    """The start's shift is the interval's centre (a little off it) and its constants are
    near the best known (same signs and magnitudes); as it stands it is no fit yet."""
    start = schain_start(S10, "exp2(x)", 0.0, 1.0, True, True)
    best = np.array(S10.consts)
    assert abs(start[0] + 0.5) < 1e-5 and np.all(np.sign(start) == np.sign(best))
    assert np.all(np.abs(np.log(np.abs(start / best))) < 0.3)
    assert schain_start(S10, "exp2(x)", 0.0, 1.0, True, positive=False) is None   # squared: f must be positive


@pytest.mark.parametrize("prog", [ANZ10, S10], ids=["anz10", "s10"])
def test_fits_from_all_ones_under_the_published_bar(prog):
    task = Task("exp2", 0.0, 1.0, score_points=2048)
    r = Evaluator(task, 0).evaluate_one(prog.with_consts(np.ones(len(prog.consts))))
    assert r.error < 3.5e-15
    assert mp_max_error(r.program, Target("exp2(x)"), 0.0, 1.0, 1000) < 3.5e-15


def test_x_beside_the_variable_is_no_chain_in_it():
    """A level holding x as well as s (s + x + c3 / s) is not a chain in s (nor an error)."""
    text = S10.text().replace("v4 = add(v2, c2)", "v4 = add(v2, x)")
    assert schain_of(parse_program(text)) is None
