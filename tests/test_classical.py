"""Classical approximations take part in every search (search/classical.py)."""
from pathlib import Path

import pytest

from numsearch.evaluators.baselines import baseline_programs
from numsearch.evaluators.task import TaskData
from numsearch.search.api import load_front, run, spec
from numsearch.search.pareto import task_of
from numsearch.search.rundir import TIE, load_front as load_doc

RUNS = Path(__file__).resolve().parents[1] / "runs"
SHIPPED = sorted(p for p in RUNS.glob("*.front.json") if not load_doc(p).get("whole"))


def _never_below(doc) -> None:
    """At every cost of the front, its error is at most the best baseline's of that
    cost or less (within TIE), all on the front's own dense grid."""
    task = task_of(doc)
    vdata = TaskData(task, task.verify_points)
    costs = [r["cost"] for r in doc["front"]]
    bls = baseline_programs(task, max(r["ops"] for r in doc["front"]), data=vdata)
    for b in bls:
        at = [r for r in doc["front"] if r["cost"] <= b.cost]
        assert at, (doc["name"], b.method, b.size)
        best = min(float(r["error"]) for r in at)
        assert best <= b.error * (1 + TIE), (doc["name"], b.cost, best, b.method, b.size, b.error)
    assert costs == sorted(costs)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_fronts_are_never_below_a_baseline(path):
    _never_below(load_doc(path))


def test_a_short_run_is_never_below_a_baseline():
    """log on [0.5, 1] (absolute error), 3 s from the empty program: the classical
    approximations are sown and merged, so the front holds the property by itself."""
    s = spec({"name": "cl", "target": {"function": "log", "interval": [0.5, 1], "metric": "absolute"},
              "search": {"max_ops": 8, "population": 16, "islands": 2, "batch": 4},
              "budget": {"seconds": 3}, "evaluation": {"verify_points": 2000}, "workers": 0})
    front = run(s)
    doc = front.doc
    _never_below(doc)
    assert any("source" in r for r in doc["front"]) or len(doc["front"]) > 3
