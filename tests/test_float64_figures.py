"""`real` fronts state the error of the float64 code the exporters write
(``error_float64``) beside the double-double figure they were scored in."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from numsearch.evaluators.task import Task, TaskData
from numsearch.primitives.interpret import evaluate
from numsearch.primitives.program import parse_program
from numsearch.search.rundir import front_records, load_front

ROOT = Path(__file__).resolve().parents[1]
EXP2 = ROOT / "runs" / "exp2_real.front.json"


def shipped(path=EXP2, ops=None):
    doc = load_front(path)
    return doc, [r for r in doc["front"] if ops is None or r["ops"] in ops]


def _individuals(rows):
    return [SimpleNamespace(program=parse_program(r["program"]), cost=r["cost"], ops=r["ops"], error=r["error"])
            for r in rows]


def test_front_records_state_the_float64_figure():
    data = TaskData(Task("exp2", 0.0, 1.0), 2000)
    _, rows = shipped(ops=(3, 12))
    low, high = front_records(_individuals(rows), data)
    assert low["error_float64"] == pytest.approx(low["error"], rel=1e-6)  # 8.7e-4: rounding is noise
    assert high["error_float64"] > 5 * high["error"]  # 3.7e-16: float64 rounding dominates
    # by hand: the program in float64 against the mpmath reference (hi + lo), relative
    y = evaluate(parse_program(rows[1]["program"]), data.x, "float64")
    hi, lo = data.ref
    assert high["error_float64"] == pytest.approx(float(np.max(np.abs((y - hi) - lo) / hi)), rel=1e-6)
    assert list(high)[:5] == ["id", "cost", "ops", "error", "error_float64"]


def test_hardware_formats_have_no_float64_figure():
    data = TaskData(Task("exp2", 0.0, 1.0, format="float32"), 2000)
    _, rows = shipped(ops=(3,))
    (rec,) = front_records(_individuals(rows), data)
    assert "error_float64" not in rec and rec["error"] > 0
