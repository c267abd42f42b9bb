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


def _numpy_approx(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.approx


def _c_approx(src, x):
    """approx() of the C file src, compiled with gcc, on the float64 array x."""
    import ctypes
    import shutil
    import subprocess

    gcc = shutil.which("gcc") or pytest.skip("no gcc")
    run = src.with_name(src.stem + "_run.c")
    run.write_text(src.read_text() + "\nvoid run(const double *x, double *y, long n)\n"
                   "{\n    long i;\n    for (i = 0; i < n; i++)\n        y[i] = approx(x[i]);\n}\n")
    so = src.with_suffix(".so")
    cc = subprocess.run([gcc, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-o", str(so),
                         str(run), "-lm"], capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    xs = np.ascontiguousarray(x, dtype=np.float64)
    y = np.empty_like(xs)
    ctypes.CDLL(str(so)).run(xs.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p),
                             ctypes.c_long(xs.size))
    return y


def _stated(path, words):
    """The figure the export's header states after ``words``."""
    text = path.read_text().replace("\n# ", " ").replace("\n * ", " ")
    return float(text.split(words, 1)[1].split()[0])


def test_numpy_export_measures_the_recorded_float64_figure(exp2_12):
    row, x, tmp = exp2_12
    path = _export(tmp, "numpy")
    measured = _mp_max_relative(x, _numpy_approx(path)(x))
    assert measured == pytest.approx(row["error_float64"], rel=0.10)
    assert measured > 10 * row["error"]  # the gap is real, not a scoring artefact
    assert _stated(path, "this code computes in float64: max relative error") == pytest.approx(row["error_float64"])


def test_c_export_measures_the_recorded_float64_figure(exp2_12):
    row, x, tmp = exp2_12
    path = _export(tmp, "c")
    assert _mp_max_relative(x, _c_approx(path, x)) == pytest.approx(row["error_float64"], rel=0.10)
    assert _stated(path, "this code computes in float64: max relative error") == pytest.approx(row["error_float64"])


@pytest.mark.parametrize("to", ["numpy", "c"])
def test_dd_export_keeps_the_double_double_accuracy(to, exp2_12):
    """--arith dd: approx() (rounded to float64) measures what its header states,
    within a few float64 roundings of the double-double figure, far below float64's."""
    row, x, tmp = exp2_12
    path = _export(tmp, to, "--arith", "dd")
    y = _numpy_approx(path)(x) if to == "numpy" else _c_approx(path, x)
    measured = _mp_max_relative(x, y)
    stated = _stated(path, "this code computes in double-double: max relative error")
    assert measured == pytest.approx(stated, rel=0.10)
    assert row["error"] <= measured < row["error"] + 2.0 ** -52 and measured < row["error_float64"] / 5


def test_export_of_an_older_front_measures_the_float64_figure(tmp_path):
    import json

    from conftest import cli

    doc = json.loads((ROOT / "runs" / "exp2_quick.front.json").read_text())
    want = doc["front"][-1]["error_float64"]
    for r in doc["front"]:
        del r["error_float64"]
    (tmp_path / "front.json").write_text(json.dumps(doc))
    r = cli("export", tmp_path, "--to", "numpy", "-o", tmp_path / "a.py")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "a.py").read_text()
    assert "measured at export" in text
    assert _stated(tmp_path / "a.py", "this code computes in float64: max relative error") == pytest.approx(want, rel=1e-6)


def test_export_arith_errors_exit_2(tmp_path):
    import json

    from conftest import cli

    r = cli("export", EXP2, "--to", "jax", "--arith", "dd")
    assert r.returncode == 2 and "--arith dd" in r.stderr and "numpy, c" in r.stderr and "Traceback" not in r.stderr
    doc = dict(load_front(EXP2), format="float32")
    (tmp_path / "front.json").write_text(json.dumps(doc))
    r = cli("export", tmp_path, "--to", "c", "--arith", "dd")
    assert r.returncode == 2 and "real programs" in r.stderr


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


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "runs").glob("*.front.json")
                                         if load_front(p)["format"] == "real"))
def test_shipped_real_fronts_have_the_field(name):
    doc = load_front(ROOT / "runs" / name)
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
