"""One real run through Ray (2 actors), then every figure in front.json is re-checked."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluators.mpcheck import mp_max_error
from evaluators.targets import Target
from search.evaluate import Task, TaskData
from search.program import parse_program

ROOT = Path(__file__).resolve().parents[1]

SPEC = """
name: e2e
target: {function: exp2, interval: [0, 1], format: real, metric: relative}
search: {ops: [add, sub, mul, div], max_ops: 4, population: 32, batch: 4}
budget: {seconds: 25}
evaluation: {verify_points: 4000}
workers: 2
seed: 3
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    (d / "spec.yaml").write_text(SPEC)
    r = subprocess.run([sys.executable, "-m", "search.cli", "run", str(d / "spec.yaml"), "--out", str(d / "run"),
                        "--progress", "5"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return d / "run", r.stdout


def test_run_directory_complete(run_dir):
    out, stdout = run_dir
    for f in ("spec.yaml", "run.json", "front.json", "checkpoint.json", "log.txt"):
        assert (out / f).exists(), f
    run = json.loads((out / "run.json").read_text())
    assert run["evaluations"] > 50 and run["status"].startswith("finished")
    assert "evals" in stdout and "hash saved" in stdout


def test_front_is_a_real_front(run_dir):
    doc = json.loads((run_dir[0] / "front.json").read_text())
    front = doc["front"]
    costs = [r["cost"] for r in front]
    errs = [r["error"] for r in front]
    assert costs == sorted(costs) and errs == sorted(errs, reverse=True)
    assert min(errs) < 2e-3  # 4 ops reach the degree-2 minimax 1.7e-3 or better
    assert doc["run"]["hash_saved"] > 0


def test_front_programs_round_trip_and_reevaluate(run_dir):
    doc = json.loads((run_dir[0] / "front.json").read_text())
    vdata = TaskData(Task("exp2", 0.0, 1.0), 4000)
    for r in doc["front"]:
        p = parse_program(r["program"])
        assert p.text() == r["program"]
        assert p.ops == r["ops"]
        assert vdata.error(p) == pytest.approx(r["error"], rel=1e-12)


def test_errors_agree_with_independent_mpmath(run_dir):
    doc = json.loads((run_dir[0] / "front.json").read_text())
    for r in doc["front"][-2:]:
        p = parse_program(r["program"])
        e = mp_max_error(p, Target("exp2"), 0.0, 1.0, n=1500, metric="relative", dps=30)
        assert float(f"{e:.1e}") == pytest.approx(float(f"{r['error']:.1e}"), rel=0.11)


def test_pareto_verb_prints_table(run_dir):
    r = subprocess.run([sys.executable, "-m", "search.cli", "pareto", str(run_dir[0])], capture_output=True,
                       text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0
    assert "exp2 on [0, 1]" in r.stdout and "error" in r.stdout
