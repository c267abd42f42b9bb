"""Whole-domain targets: the interval where a kernel must serve the function, and its grids."""
import math

import numpy as np
import pytest

from numsearch.evaluators.domain import served, whole_domain
from numsearch.evaluators.targets import Target
from numsearch.evaluators.task import Task, TaskData
from numsearch.evaluators.values import OrderedValues
from numsearch.primitives.formats import FORMATS
from numsearch.search.spec import SpecError, parse_spec

F32 = FORMATS["float32"]
MAX32 = float(np.finfo(np.float32).max)


def _next(v, direction, dtype=np.float32):
    return float(np.nextafter(dtype(v), dtype(direction * np.inf)))


def test_exp_float32_ends_where_the_result_stops_being_normal_and_finite():
    lo, hi = whole_domain("exp", F32)
    # hi: e^hi rounds to a finite float32, e^(next float32 above hi) overflows (float64 e^x suffices here)
    with np.errstate(over="ignore"):
        assert np.isfinite(np.float32(math.exp(hi))) and np.isinf(np.float32(math.exp(_next(hi, 1))))
    # lo: e^lo is normal, e^(next below) rounds below 2^-126
    tiny = 2.0 ** -126
    assert abs(float(np.float32(math.exp(lo)))) >= tiny > float(np.float32(math.exp(_next(lo, -1))))
    assert -87.34 < lo < -87.33 and 88.72 < hi < 88.73
    assert np.float32(lo) == lo and np.float32(hi) == hi   # values of the format


@pytest.mark.parametrize("fn, fmt, want", [
    ("tanh", "float32", (-MAX32, MAX32)),                     # every finite float32 (subnormal x: tanh x ~ x)
    ("sin", "float32", (-MAX32, MAX32)),
    ("log", "float32", (2.0 ** -149, MAX32)),                 # log of every positive float32 is normal
    ("sqrt", "float8_e4m3fn", (0.0, 448.0)),
    ("exp2", "float16", (-14.0, 15.9921875)),                 # 2^x normal in float16 and below 65520
])
def test_whole_domains(fn, fmt, want):
    assert whole_domain(fn, FORMATS[fmt]) == want


def test_served_rules():
    t = Target("exp")
    assert served(t, F32, 0.0) and served(t, F32, 88.0) and not served(t, F32, 89.0)
    assert not served(t, F32, -88.0)                          # e^-88 is subnormal in float32
    assert not served(Target("log"), F32, -1.0)               # not real
    assert served(Target("log"), F32, 1.0)                    # log 1 = 0 exactly
    assert served(Target("tanh"), F32, 1e-45)                 # subnormal in, subnormal out
    assert not served(Target("x**-1"), F32, 0.0)              # a pole


def test_whole_interval_in_a_spec_and_binade_grids():
    s = parse_spec("target: {function: exp, interval: whole, format: float32, metric: ulp}\n"
                   "evaluation: {fit_points: 64, score_points: 128, verify_points: 256}")
    assert (s.task.lo, s.task.hi) == whole_domain("exp", F32) and s.task.binades
    d = TaskData(s.task)
    tiny = d.x[np.abs(d.x) < 2.0 ** -60]
    assert len(tiny) >= 20 and np.all(np.float32(d.x) == d.x)  # binades far below 1 are sampled
    inside = d.x[(d.x >= s.task.lo) & (d.x <= s.task.hi)]
    assert inside.min() == s.task.lo and inside.max() == s.task.hi
    plain = TaskData(Task("exp", s.task.lo, s.task.hi, "float32", "ulp", fit_points=64, score_points=128))
    assert plain.x.min() == s.task.lo and plain.x.max() == s.task.hi   # without whole: nothing beyond
    assert np.sum(np.abs(plain.x) < 2.0 ** -60) == 0             # without it: none there
    with pytest.raises(SpecError, match="target.interval: whole: "):
        parse_spec("target: {function: 'log(-1 - x**2)', interval: whole, format: float32}")


@pytest.mark.parametrize("fmt", ["float32", "float64", "bfloat16", "float8_e5m2"])
def test_ordered_values_round_trip(fmt):
    ov = OrderedValues(FORMATS[fmt])
    x = ov.spread(-3.0, 5.0, 200)
    assert np.all(np.diff(x) > 0) and x[0] >= -3.0 and x[-1] <= 5.0
    keys = [ov.key(v) for v in x]
    assert np.all(np.diff(keys) > 0) and np.array_equal(ov.values(np.array(keys)), x)
    assert np.all(FORMATS[fmt].round(x) == x)


def test_whole_domain_grids_hold_inputs_beyond_the_ends_with_saturated_references():
    """Past the ends of exp's float32 domain the reference is inf (overflow) or
    tiny (underflow): a kernel that saturates scores 0 there, one that returns
    NaN or a finite value past the overflow threshold scores inf."""
    from numsearch.primitives.program import parse_program
    s = parse_spec("target: {function: exp, interval: whole, format: float32, metric: ulp}\n"
                   "evaluation: {fit_points: 64, score_points: 128, verify_points: 256}")
    d = TaskData(s.task)
    above, below = d.x > s.task.hi, d.x < s.task.lo
    assert above.sum() >= 5 and below.sum() >= 5 and np.isposinf(d.x).any() and np.isneginf(d.x).any()
    assert np.all(np.isposinf(d.ref[0][above])) and np.all(d.ref[0][below] < 2.0 ** -126)
    x = np.array([s.task.hi + 1.0, 1e30, np.inf, -1e30, -np.inf, -200.0])
    from numsearch.evaluators.accuracy import pointwise_error
    from numsearch.evaluators.task import _saturated
    from numsearch.evaluators.reference import reference
    ref = _saturated(reference(Target("exp"), x), F32)
    w = 1.0 / F32.ulp(ref[0])
    good = np.array([np.inf, np.inf, np.inf, 0.0, 0.0, 0.0])
    assert np.all(pointwise_error(good, ref, w) < 1e-30)
    bad = np.array([3e38, np.nan, np.inf, 0.0, np.nan, 1e-30])
    assert np.isinf(pointwise_error(bad, ref, w)[[0, 1, 4]]).all() and pointwise_error(bad, ref, w)[5] > 1e6


def test_a_root_between_probes_is_not_a_pole():
    """The pole search bisects sign changes: sin through pi and a cubic through its
    roots shrink to 0 and pass; tan through pi/2 does not."""
    from numsearch.evaluators.targetcheck import check_target
    from numsearch.evaluators.targets import TargetError
    from numsearch.evaluators.task import Task
    check_target(Task("sin", 3.0, 4.0, "real", "absolute"))
    check_target(Task("(x-0.3)*(x-0.31)*(x+0.7)", -1.0, 1.0, "float32", "absolute"))
    with pytest.raises(TargetError, match="pole"):
        check_target(Task("tan", 1.0, 2.0, "float32", "absolute"))
