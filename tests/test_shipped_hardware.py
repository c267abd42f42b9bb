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


def _compiled_ulps(front, e, n=200_001):
    """Max float32 ulp error of the compiled fast JAX export of entry ``e`` on n points
    spread over the interval and its ends (float64 reference), and the export itself."""
    from numsearch.search.exported import load_exported
    lo, hi = front.interval
    mod = load_exported(e.program, front.format, to="jax", inputs=front.inputs)
    x = np.concatenate([np.linspace(lo, hi, n), [lo, hi]]).astype(np.float32)
    want = np.exp(x.astype(np.float64))
    got = np.asarray(mod.approx(x)).astype(np.float64)
    ulp = np.spacing(want.astype(np.float32)).astype(np.float64)
    return float(np.max(np.abs(got - want) / ulp)), mod


def test_exp_f32_saturating_fastest_meets_the_target_on_every_input_and_saturates():
    """runs/exp_f32_saturating (every input served): `--pick best` is the run's fastest timed program,
    whose end-of-run check over every float32 of the domain met 1 ulp; its fast export
    scales by an integer add with saturation and, compiled, stays under 1 ulp on a dense
    sample, returns inf above the overflow threshold and 0 below the normal range."""
    front = load_front(RUNS / "exp_f32_saturating.front.json")
    goal = front.doc["error_target"]
    best = front.pick("best")
    assert front.fastest is not None and best.program.text() == front.fastest.program.text()
    assert float(best.record["exhaustive_error"]) <= goal and front.inputs is None
    worst, mod = _compiled_ulps(front, best)
    assert worst <= goal
    y = np.asarray(mod.approx(np.float32([88.7229, 100.0, np.inf, -87.5, -100.0, -np.inf])))
    assert np.all(np.isinf(y[:3]) & (y[:3] > 0)) and np.all(y[3:] == 0)


def test_exp_f32_fastest_assumes_its_domain():
    """runs/exp_f32 (speed.inputs: domain): the front records the precondition; the
    fast export of `--pick best` states it, adds k to the exponent field without clamps, and,
    compiled, stays under 1 ulp on a dense sample of the domain."""
    front = load_front(RUNS / "exp_f32.front.json")
    assert front.inputs == tuple(front.interval) and front.doc.get("beyond") is False
    assert "the timed code assumes x in the interval (speed.inputs: domain)" in front.table(baselines=False)
    best = front.pick("best")
    assert float(best.record["exhaustive_error"]) <= front.doc["error_target"]
    src = front.export("jax", pick="best")
    assert "Precondition: x in [" in src and "ldexp_add_(" in src and "jnp.minimum(x" not in src
    worst, _ = _compiled_ulps(front, best)
    assert worst <= front.doc["error_target"]


def test_tanh_f32_fastest_is_under_one_ulp_odd_and_saturating():
    """runs/tanh_f32 (every float32): `--pick best` is the run's fastest timed program, whose
    end-of-run check over every float32 met 1 ulp; its fast export joins its two pieces with
    one select and, compiled, stays under 1 ulp on every float32 of [0.9, 1.1] (both sides
    of the join) and on a sample of the rest, odd, 1 from the clamp on, NaN for NaN."""
    from numsearch.search.exported import load_exported
    front = load_front(RUNS / "tanh_f32.front.json")
    goal = front.doc["error_target"]
    best = front.pick("best")
    assert front.fastest is not None and best.program.text() == front.fastest.program.text()
    assert float(best.record["exhaustive_error"]) <= goal and front.inputs is None
    assert "jnp.where(" in front.export("jax", pick="best")
    mod = load_exported(best.program, front.format, to="jax")
    bits = lambda a, b, step: np.arange(np.float32(a).view(np.int32), np.float32(b).view(np.int32), step,
                                        dtype=np.int32).view(np.float32)
    x = np.concatenate([bits(0.9, 1.1, 1), bits(2.0 ** -120, 12.0, 4099)])
    x = np.concatenate([x, -x])
    got = np.asarray(mod.approx(x)).astype(np.float64)
    want = np.tanh(x.astype(np.float64))
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)) <= goal
    y = np.asarray(mod.approx(np.float32([9.5, 1e30, np.inf, -np.inf, -0.0, np.nan])))
    assert list(y[:4]) == [1.0, 1.0, 1.0, -1.0] and y[4] == 0 and np.signbit(y[4]) and np.isnan(y[5])
