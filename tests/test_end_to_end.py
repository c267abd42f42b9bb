"""One real run through Ray (2 actors), then every figure in front.json is re-checked."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numsearch.evaluators.mpcheck import mp_max_error
from numsearch.evaluators.targets import Target
from numsearch.evaluators.task import Task, TaskData
from numsearch.primitives.program import parse_program
from conftest import cli

ROOT = Path(__file__).resolve().parents[1]

SPEC = """
name: e2e
target: {function: exp2, interval: [0, 1], format: real, metric: relative}
search: {ops: [add, sub, mul, div], max_ops: 4, population: 32, batch: 4}
budget: {seconds: 240, evaluations: 2000}
evaluation: {verify_points: 4000}
workers: 2
seed: 3
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    (d / "spec.yaml").write_text(SPEC)
    r = subprocess.run([sys.executable, "-m", "numsearch.search.cli", "run", str(d / "spec.yaml"), "--out", str(d / "run"),
                        "--progress", "5"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return d / "run", r.stdout


def test_run_directory_complete(run_dir):
    out, stdout = run_dir
    for f in ("spec.yaml", "run.json", "front.json", "checkpoint.json", "log.txt"):
        assert (out / f).exists(), f
    run = json.loads((out / "run.json").read_text())
    assert run["evaluations"] > 50 and run["status"].startswith("finished")
    # the closing line is always printed (progress lines only if the run outlasts --progress)
    assert "evaluations (" in stdout and "hash saved" in stdout


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
        assert vdata.error(p, "float64") == pytest.approx(r["error_float64"], rel=1e-12)


def test_errors_agree_with_independent_mpmath(run_dir):
    doc = json.loads((run_dir[0] / "front.json").read_text())
    for r in doc["front"][-2:]:
        p = parse_program(r["program"])
        e = mp_max_error(p, Target("exp2"), 0.0, 1.0, n=1500, metric="relative", dps=30)
        assert float(f"{e:.1e}") == pytest.approx(float(f"{r['error']:.1e}"), rel=0.11)


def test_pareto_verb_prints_table(run_dir):
    r = subprocess.run([sys.executable, "-m", "numsearch.search.cli", "pareto", str(run_dir[0])], capture_output=True,
                       text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0
    assert "exp2 on [0, 1]" in r.stdout and "error" in r.stdout



def test_pareto_with_baselines_plot_and_json(run_dir, tmp_path):
    png = tmp_path / "front.png"
    r = cli("pareto", run_dir[0], "--plot", png)
    assert r.returncode == 0, r.stderr
    assert "minimax" in r.stdout and "gain" in r.stdout
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = cli("pareto", run_dir[0], "--json")
    doc = json.loads(r.stdout)
    assert doc["baselines"] and all(b["cost"] <= doc["front"][-1]["cost"] for b in doc["baselines"])
    # gain = baseline error / program error, where both exist
    for row in doc["front"]:
        if row["baseline_error"] is not None:
            assert row["gain"] == pytest.approx(row["baseline_error"] / row["error"])


def test_export_picks_and_c_matches_interpreter(run_dir, tmp_path):
    import shutil
    from numsearch.primitives.interpret import evaluate_float

    doc = json.loads((run_dir[0] / "front.json").read_text())
    best = min(doc["front"], key=lambda r: r["error"])
    src = tmp_path / "approx.c"
    r = cli("export", run_dir[0], "--to", "c", "-o", src)
    assert r.returncode == 0, r.stderr
    text = src.read_text()
    assert best["program"].splitlines()[-1] in text  # the program text is in the header comment
    if shutil.which("gcc") is None:
        pytest.skip("no gcc")
    main_c = tmp_path / "main.c"
    main_c.write_text(text + '\n#include <stdio.h>\n#include <stdlib.h>\n'
                      'int main(int c, char **v) { for (int i = 1; i < c; i++) printf("%a\\n", approx(strtod(v[i], 0))); return 0; }\n')
    exe = tmp_path / "approx"
    cc = subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", str(main_c), "-o", str(exe), "-lm"],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    xs = np.linspace(0, 1, 33)
    out = subprocess.run([str(exe), *[x.hex() for x in xs]], capture_output=True, text=True).stdout.split()
    want = evaluate_float(parse_program(best["program"]), xs, "float64")
    assert [float.fromhex(o) for o in out] == want.tolist()


def test_export_bad_picks_exit_2(run_dir):
    for pick in ("id=99", "cost=-1", "fastest", "cost=a"):
        r = cli("export", run_dir[0], "--to", "c", "--pick", pick)
        assert r.returncode == 2 and "--pick" in r.stderr and "Traceback" not in r.stderr
    r = cli("export", run_dir[0], "--to", "fortran")
    assert r.returncode == 2 and "--to" in r.stderr
