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


# ------------------------------------------------ the shipped figure holds for the exports
def _mp_max_relative(x, y) -> float:
    """max |y - 2^x| / 2^x, in mpmath at 30 digits (independent of numsearch's references)."""
    import mpmath

    worst = mpmath.mpf(0)
    with mpmath.workdps(30):
        for xi, yi in zip(x.tolist(), y.tolist()):
            f = mpmath.power(2, mpmath.mpf(xi))
            worst = max(worst, abs(mpmath.mpf(yi) - f) / f)
    return float(worst)


@pytest.fixture(scope="module")
def exp2_12(tmp_path_factory):
    """The 12-op exp2_real program's row, the dense grid, and a temp dir."""
    from numsearch.evaluators.reference import sample_grid
    from numsearch.primitives.formats import FORMATS

    doc, (row,) = shipped(ops=(12,))
    lo, hi = doc["interval"]
    return row, sample_grid(FORMATS["real"], lo, hi, doc["verify_points"]), tmp_path_factory.mktemp("exp2_12")


def _export(tmp, to, *extra):
    from conftest import cli

    out = tmp / f"approx_{to}{'_'.join(extra)}.{'c' if to == 'c' else 'py'}"
    r = cli("export", EXP2, "--pick", "cost=12", "--to", to, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    return out


def test_numpy_export_measures_the_recorded_float64_figure(exp2_12):
    import importlib.util

    row, x, tmp = exp2_12
    spec = importlib.util.spec_from_file_location("exp2_12_numpy", _export(tmp, "numpy"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    measured = _mp_max_relative(x, mod.approx(x))
    assert measured == pytest.approx(row["error_float64"], rel=0.10)
    assert measured > 10 * row["error"]  # the gap is real, not a scoring artefact


def test_c_export_measures_the_recorded_float64_figure(exp2_12):
    import ctypes
    import shutil
    import subprocess

    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    row, x, tmp = exp2_12
    src = _export(tmp, "c")
    (tmp / "run.c").write_text(src.read_text() + "\nvoid run(const double *x, double *y, long n)\n"
                               "{\n    long i;\n    for (i = 0; i < n; i++)\n        y[i] = approx(x[i]);\n}\n")
    cc = subprocess.run([gcc, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-o",
                         str(tmp / "run.so"), str(tmp / "run.c"), "-lm"], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    xs = np.ascontiguousarray(x, dtype=np.float64)
    y = np.empty_like(xs)
    ctypes.CDLL(str(tmp / "run.so")).run(xs.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p),
                                         ctypes.c_long(xs.size))
    assert _mp_max_relative(xs, y) == pytest.approx(row["error_float64"], rel=0.10)


# ------------------------------------------------------- the script that wrote the field
def test_script_adds_only_error_float64(tmp_path):
    """Stripping the field from the shipped exp2_quick front and running the
    script gives the shipped file back, byte for byte."""
    import json
    import subprocess
    import sys

    shipped_text = (ROOT / "runs" / "exp2_quick.front.json").read_text()
    doc = json.loads(shipped_text)
    for r in doc["front"]:
        del r["error_float64"]
    f = tmp_path / "front.json"
    f.write_text(json.dumps(doc, indent=1) + "\n")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "front_float64.py"), str(tmp_path), "--write"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f.read_text() == shipped_text
    # a front whose figures it cannot reproduce is left alone
    doc["front"][-1]["error"] = 1.0
    f.write_text(json.dumps(doc, indent=1) + "\n")
    before = f.read_text()
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "front_float64.py"), str(f), "--write"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "not written" in r.stdout and f.read_text() == before


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "runs").glob("*.front.json")))
def test_shipped_real_fronts_have_the_field(name):
    doc = load_front(ROOT / "runs" / name)
    assert doc["format"] == "real"
    assert all(isinstance(r["error_float64"], float) and r["error_float64"] > 0 for r in doc["front"])


# ----------------------------------------------------------------- pareto, verify
def test_pareto_shows_the_float64_column_for_real_fronts_only(tmp_path):
    import json

    from conftest import cli

    doc, rows = shipped()
    r = cli("pareto", EXP2, "--no-baselines")
    assert r.returncode == 0, r.stderr
    head = next(ln for ln in r.stdout.splitlines() if ln.lstrip().startswith("id"))
    assert head.split()[4:6] == ["float64", "code"]
    row12 = next(ln.split() for ln in r.stdout.splitlines() if ln.split()[:3] == ["12", "12", "12"])
    assert float(row12[3]) == pytest.approx(rows[-1]["error"], rel=1e-3)
    assert float(row12[4]) == pytest.approx(rows[-1]["error_float64"], rel=1e-3)
    got = json.loads(cli("pareto", EXP2, "--no-baselines", "--json").stdout)
    assert [g["error_float64"] for g in got["front"]] == [r["error_float64"] for r in rows]
    # a float32 front: no such column, no such key
    f32 = dict(doc, format="float32", front=[{k: v for k, v in r.items() if k != "error_float64"} for r in rows[:3]])
    (tmp_path / "front.json").write_text(json.dumps(f32))
    r = cli("pareto", tmp_path, "--no-baselines")
    assert r.returncode == 0 and "float64 code" not in r.stdout
    got = json.loads(cli("pareto", tmp_path, "--no-baselines", "--json").stdout)
    assert all("error_float64" not in g for g in got["front"])


def test_verify_real_shows_double_double_and_float64_figures():
    from conftest import cli

    _, (row,) = shipped(ops=(12,))
    r = cli("verify", EXP2, "--pick", "cost=12")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "double-double" in out and "float64 code" in out
    dd = float(next(ln for ln in out.splitlines() if ln.strip().startswith("max relative")).split()[2])
    f64 = float(out.split("; max relative ")[1].split(",")[0])
    assert dd == pytest.approx(row["error"], rel=0.05)  # the dense grid is half of the points
    assert f64 > 10 * dd and f64 == pytest.approx(row["error_float64"], rel=0.5)
