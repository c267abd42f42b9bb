"""What double-double export costs: the float64 and the double-double
(``--arith dd``) exports of one `real` program, in C and NumPy, timed against
each other and scored on the front's dense grid against its mpmath reference.

Speed: each export's approx() over --n inputs uniform in the interval (C
through a compiled loop, called by ctypes; NumPy on the array), --repeats
samples of every variant interleaved (round-robin, order rotated each round)
after a warm-up; each sample is the process's CPU time for one call (less
disturbed than wall time on a shared machine); median ns/element, spread
(min - max over the samples) and the ratio of medians dd / float64 per
language, with the range of the per-round ratios.  Accuracy: the max of the
run's metric of each export's output on the dense grid (the code's own
output, not the interpreter's).

    python benchmarks/export_dd_cost.py runs/exp2_real.front.json --pick cost=12
"""
from __future__ import annotations

import argparse
import ctypes
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.accuracy import max_error  # noqa: E402
from numsearch.evaluators.task import TaskData  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402
from numsearch.search.cli import pick  # noqa: E402
from numsearch.search.exporters import export  # noqa: E402
from numsearch.search.pareto import task_of  # noqa: E402
from numsearch.search.rundir import load_front  # noqa: E402

_LOOP = "\nvoid run(const double *x, double *y, long n)\n{\n    long i;\n    for (i = 0; i < n; i++)\n        y[i] = approx(x[i]);\n}\n"


def c_function(src: str, d: Path, stem: str, cflags: list[str]):
    gcc = shutil.which("gcc")
    (d / f"{stem}.c").write_text(src + _LOOP)
    subprocess.run([gcc, *cflags, "-fPIC", "-shared", "-o", str(d / f"{stem}.so"), str(d / f"{stem}.c"), "-lm"],
                   check=True)
    fn = ctypes.CDLL(str(d / f"{stem}.so")).run
    ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)

    def approx(x):
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.empty_like(x)
        fn(ptr(x), ptr(y), ctypes.c_long(x.size))
        return y
    return approx


def numpy_function(src: str, d: Path, stem: str):
    (d / f"{stem}.py").write_text(src)
    spec = importlib.util.spec_from_file_location(stem, d / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.approx


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("front", nargs="?", default="runs/exp2_real.front.json")
    ap.add_argument("--pick", default="cost=12")
    ap.add_argument("--n", type=int, default=1 << 20, help="inputs per timed call")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--cflags", default="-O2 -std=c99 -march=native", help="gcc flags (default %(default)s)")
    a = ap.parse_args(argv)
    doc = load_front(a.front)
    if doc["format"] != "real":
        print(f"{a.front}: format {doc['format']}: double-double export is for real programs")
        return 2
    row = pick(doc, a.pick)
    prog = parse_program(row["program"])
    lo, hi = map(float, doc["interval"])
    fns = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for arith in ("native", "dd"):
            label = "float64" if arith == "native" else "dd"
            if shutil.which("gcc"):
                fns[f"C {label}"] = c_function(export(prog, "real", "c", arith=arith), d, f"c_{arith}",
                                               a.cflags.split())
            fns[f"NumPy {label}"] = numpy_function(export(prog, "real", "numpy", arith=arith), d, f"np_{arith}")
        data = TaskData(task_of(doc), int(doc["verify_points"]))
        errors = {k: max_error(np.asarray(f(data.x), dtype=np.float64), data.ref, data.w) for k, f in fns.items()}
        x = np.random.default_rng(0).uniform(lo, hi, a.n)
        names = list(fns)
        times = {k: [] for k in names}
        for k in names:  # warm-up
            fns[k](x)
        for r in range(a.repeats):
            for k in names[r % len(names):] + names[:r % len(names)]:
                t0 = time.process_time()
                fns[k](x)
                times[k].append((time.process_time() - t0) / a.n * 1e9)
    print(f"{doc['target']} on [{lo:g}, {hi:g}], program id {row['id']} ({row['ops']} ops) of {a.front}")
    print(f"speed: CPU time per element, {a.n} inputs per call, {a.repeats} interleaved repeats; "
          f"C built with gcc {a.cflags}")
    print(f"accuracy: max {doc['metric']} error of each export's output on the dense grid of {len(data.x)} "
          f"points (front.json: double-double {row['error']:.3e}, error_float64 {row.get('error_float64', float('nan')):.3e})")
    print(f"{'export':<14} {'median ns/elt':>14} {'min - max':>18} {'max error':>11}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in names:
        print(f"{k:<14} {med[k]:>14.3g} {min(times[k]):>8.3g} - {max(times[k]):<7.3g} {errors[k]:>11.3e}")
    for lang in ("C", "NumPy"):
        if f"{lang} dd" in med:
            per = [b / f for b, f in zip(times[f"{lang} dd"], times[f"{lang} float64"])]
            print(f"{lang}: dd / float64 time {med[f'{lang} dd'] / med[f'{lang} float64']:.3g}x "
                  f"(per-round ratios {min(per):.3g} - {max(per):.3g}); error "
                  f"{errors[f'{lang} float64'] / errors[f'{lang} dd']:.3g}x smaller in dd")
    return 0


if __name__ == "__main__":
    sys.exit(main())
