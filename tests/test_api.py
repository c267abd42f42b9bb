"""The Python API (numsearch.run / load_front / Front) and the installed package."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import numsearch
from numsearch.search.exporters import EXPORTERS

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"name": "api_test", "target": {"function": "exp2", "interval": [0, 1]},
        "search": {"max_ops": 5, "population": 16, "islands": 2},
        "budget": {"seconds": 120, "evaluations": 60}, "evaluation": {"verify_points": 2000}}


@pytest.fixture(scope="module")
def front():
    lines = []
    f = numsearch.run(SPEC, workers=0, progress=lines.append)
    assert lines and "api_test" in lines[0] and any(ln.startswith("done (finished: evaluation budget)")
                                                      for ln in lines)
    return f


def test_spec_from_dict_text_path_and_example_agree(tmp_path):
    text = "target: {function: exp2, interval: [0, 1]}\nsearch: {max_ops: 5}\n"
    p = tmp_path / "s.yaml"
    p.write_text(text)
    a, b, c = numsearch.spec({"target": {"function": "exp2", "interval": [0, 1]}, "search": {"max_ops": 5}}), \
        numsearch.spec(text), numsearch.spec(str(p))
    assert a.task == b.task == c.task and a.search == b.search == c.search
    ex = numsearch.spec("exp2_quick")
    assert ex.name == "exp2_quick" and ex.task.target == "exp2"
    assert set(numsearch.examples()) >= {"exp2_quick", "exp2_real"}


def test_run_returns_a_front_that_picks_exports_and_verifies(front):
    assert front.target == "exp2" and front.interval == (0.0, 1.0) and len(front) >= 3
    errs = [e.error for e in front]
    assert errs == sorted(errs, reverse=True) and [e.cost for e in front] == sorted(e.cost for e in front)
    best = front.pick()
    assert best.error == min(errs)
    cheap = front.pick("cost=2")
    assert cheap.cost <= 2 and front.pick(f"id={cheap.id}") == cheap
    for to in EXPORTERS:
        src = front.export(to, pick=f"id={best.id}")
        assert best.text.splitlines()[0] in src, to
    check = front.verify(f"id={best.id}", samples=800)
    assert 0.5 * best.error <= check.max_rel <= 2 * best.error   # sampled against mpmath vs the dense grid's figure


def test_pareto_rows_as_data(front):
    rows = front.pareto(baselines=True)
    assert [r.id for r in rows] == [e.id for e in front]
    with_base = [r for r in rows if r.baseline_error is not None]
    assert with_base and all(r.gain == pytest.approx(r.baseline_error / r.error) for r in with_base)
    assert "best baseline" in front.table()


def test_run_directory_and_load_front_agree(tmp_path):
    out = tmp_path / "run"
    f = numsearch.run(SPEC, out, workers=0)
    doc = json.loads((out / "front.json").read_text())
    g = numsearch.load_front(out)
    assert [e.text for e in f] == [e.text for e in g] == [r["program"] for r in doc["front"]]
    with pytest.raises(numsearch.UserError, match="already holds a run"):
        numsearch.run(SPEC, out, workers=0)


@pytest.mark.parametrize("call, msg", [
    (lambda f: f.pick("fastest"), "pick: expected best"),
    (lambda f: f.pick("cost=-1"), "pick: no program of cost <= -1"),
    (lambda f: f.export("fortran"), "to: unknown exporter 'fortran'"),
    (lambda f: numsearch.load_front("/nonexistent/front.json"), "no such run directory"),
    (lambda f: numsearch.spec("search: {max_ops: a}\ntarget: {function: exp2, interval: [0, 1]}"),
     "search.max_ops: must be an integer"),
    (lambda f: numsearch.spec("no_such_example"), "no file and no example"),
    (lambda f: numsearch.Front({"target": "exp2", "front": []}), "not a numsearch front"),
    (lambda f: numsearch.run(SPEC, workers=-1), "workers: must be >= 0"),
])
def test_bad_input_is_a_user_error(front, call, msg):
    with pytest.raises(numsearch.UserError, match=re.escape(msg)):
        call(front)


def test_installed_package_has_one_import_name_and_runs_the_readme_example(tmp_path):
    """pip-installed (not editable) into a folder of its own, used from a folder
    whose own search.py, primitives.py and evaluators.py must not interfere."""
    wheel_dir, site, work = tmp_path / "wheel", tmp_path / "site", tmp_path / "work"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["wheel", "--no-deps", "-w", str(wheel_dir), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    subprocess.run(pip + ["install", "--no-deps", "--target", str(site), *map(str, wheel_dir.glob("*.whl"))],
                   check=True, capture_output=True, timeout=300)
    assert sorted(p.name for p in site.iterdir() if not p.name.endswith((".dist-info", "bin"))) == ["numsearch"]
    work.mkdir()
    for name in ("search", "primitives", "evaluators"):
        (work / f"{name}.py").write_text(f"WHO = 'the user'\n")
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"<!-- api-example.*?```python\n(.*?)```", readme, re.S).group(1)
    probe = ("import numsearch, search, primitives, evaluators\n"
             "assert numsearch.__file__.startswith(%r), numsearch.__file__\n"
             "assert search.WHO == primitives.WHO == evaluators.WHO == 'the user'\n" % str(site))
    r = subprocess.run([sys.executable, "-c", probe + example], cwd=work, capture_output=True, text=True,
                       timeout=300, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin",
                                         "RAY_USAGE_STATS_ENABLED": "0", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout.splitlines()
    assert any("best baseline at <= cost" in ln for ln in out) and "return v" in r.stdout
    assert float(out[-1]) < 1e-12   # the shipped exp2_real front, read from the installed runs/
