"""The shipped hardware-format fronts hold their figures, checked over every input."""
from pathlib import Path

import numpy as np
import pytest

from numsearch.evaluators.verify import ulp_check
from numsearch.primitives.interpret import evaluate
from numsearch.search.api import load_front
from numsearch.search.exported import check_exported

RUNS = Path(__file__).resolve().parents[1] / "runs"


@pytest.mark.parametrize("pick", ["best", "cost=11"])
def test_exp_bf16_is_correctly_rounded_on_every_input(pick):
    """runs/exp_bf16: every bfloat16 input of [-87, 88.5] rounds correctly (max error 0.5
    bfloat16 ulp; exp has no exact halfway cases there), in the interpreter and as the
    compiled fast JAX export; beyond the domain inf above, 0 far below and at -inf."""
    front = load_front(RUNS / "exp_bf16.front.json")
    assert front.format == "bfloat16@float32"
    e = front.pick(pick)
    lo, hi = front.interval
    res = ulp_check(e.text, front.target, lo, hi, front.format)
    assert res.exhaustive and res.points == 34144 and res.max_ulp <= 0.5
    fast = check_exported(e.program, front.target, lo, hi, front.format)
    assert fast.points == 34144 and fast.max_ulp <= 0.5
    y = evaluate(e.program, np.array([88.5 + 0.5, 100.0, np.inf, -100.0, -1e30, -np.inf]), front.format)
    assert np.all(np.isinf(y[:3]) & (y[:3] > 0)) and np.all(y[3:] == 0)
    assert e.ops < 14     # fewer operations than the float32 exp kernel (14)


def test_exp_f32_pick_best_skips_a_program_that_failed_its_exhaustive_check():
    """runs/exp_f32: the 13-op kernel meets 1 ulp on the dense grid (0.991) but the run's
    end-of-run check over every float32 found 1.131 (exhaustive_error); `--pick best`
    (no timed program passed) takes the cheapest that meets the target on both: 14 ops."""
    front = load_front(RUNS / "exp_f32.front.json")
    goal = front.doc["error_target"]
    c13 = front.pick("cost=13")
    assert c13.error <= goal < float(c13.record["exhaustive_error"])
    best = front.pick("best")
    assert best.cost == 14 and best.error <= goal and front.fastest is None
