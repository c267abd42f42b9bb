"""Speed and accuracy of a hardware-format program's exports against the
platform's own function: the fast JAX export (``jax``), the bit-exact
JAX export (``jax_exact``) and the C export, each beside its max ULP error.

JAX (``search.timing.speed_ratio``): a chain of --steps applications of the
function, each output clipped back into the interval, on a device-resident
vector of --n values uniform in the interval, jitted as one computation
(``lax.fori_loop``); a measurement is the minimum of --timings calls; the
ratio (jax.numpy reference time / export time, > 1: the export is faster) is
the median over --measurements interleaved measurements, with quartiles and
range.  The reference is the target's jax.numpy function in the same chain.

C: the C export and the C library's float function (``expf``, ``exp2f``,
``tanhf`` ...) in a generated harness compiled with gcc and each --cflags,
timed the same way (the same chain, n, steps, timings and measurements, the
same inputs; wall time of the chain, minimum of the timings).

Accuracy: the exhaustive max ULP over every value of the interval in the
format (float32 and narrower): of the program in the interpreter, of the
compiled fast JAX function, of the compiled bit-exact JAX function, and of
the C export (its compiled approx over every value, by ctypes).

    python benchmarks/speed.py /tmp/e32 --pick best
"""
from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.targets import FUNCTIONS  # noqa: E402
from numsearch.evaluators.verify import exhaustive_possible, ulp_check, ulp_check_function  # noqa: E402
from numsearch.primitives.formats import FORMATS  # noqa: E402
from numsearch.search.api import load_front  # noqa: E402
from numsearch.search.exported import check_exported  # noqa: E402
from numsearch.search.exporters import export  # noqa: E402
from numsearch.search.timing import _inputs, ratio_summary, speed_ratio_program  # noqa: E402

_LIBM = {"gamma": "tgammaf"}  # target name -> C library float function, where not name + "f"
_NO_LIBM = {"rsqrt", "sigmoid", "pi", "e"}

_HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static float clip_(float v) { return v < LO_ ? LO_ : (v > HI_ ? HI_ : v); }
static void chain_prog(float *v, long n, int steps) { int s; long i; for (s = 0; s < steps; s++) for (i = 0; i < n; i++) v[i] = clip_(approx(v[i])); }
static void chain_ref(float *v, long n, int steps) { int s; long i; for (s = 0; s < steps; s++) for (i = 0; i < n; i++) v[i] = clip_(REF_(v[i])); }

void run(const float *x, float *y, long n) { long i; for (i = 0; i < n; i++) y[i] = approx(x[i]); }

static double best_(void (*f)(float *, long, int), const float *x, float *v, long n, int steps, int timings, double *sink)
{
    double best = 1e300, t0, dt;
    int t;
    for (t = 0; t < timings; t++) {
        memcpy(v, x, n * sizeof *v);
        t0 = now_();
        f(v, n, steps);
        dt = now_() - t0;
        if (dt < best) best = dt;
        *sink += v[t % n];
    }
    return best;
}

int main(int argc, char **argv)
{
    long n = atol(argv[2]);
    int steps = atoi(argv[3]), timings = atoi(argv[4]), meas = atoi(argv[5]), m;
    float *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v);
    double sink = 0, tp, tr;
    FILE *fh = fopen(argv[1], "rb");
    if (!fh || fread(x, sizeof *x, n, fh) != (size_t)n) return 1;
    fclose(fh);
    for (m = 0; m < meas; m++) {
        if (m % 2 == 0) { tp = best_(chain_prog, x, v, n, steps, timings, &sink); tr = best_(chain_ref, x, v, n, steps, timings, &sink); }
        else { tr = best_(chain_ref, x, v, n, steps, timings, &sink); tp = best_(chain_prog, x, v, n, steps, timings, &sink); }
        printf("%.9g %.9g\n", tp, tr);
    }
    fprintf(stderr, "checksum %g\n", sink);
    return 0;
}
"""


def libm_name(target: str) -> str | None:
    t = target.strip()
    if t not in FUNCTIONS or t in _NO_LIBM:
        return None
    return _LIBM.get(t, t + "f")


def c_bench(program, fmt: str, target: str, lo: float, hi: float, cflags: str, a, d: Path) -> dict:
    """C export vs the C library, chained as in speed_ratio; and the export's max ULP."""
    ref = libm_name(target)
    stem = f"bench{abs(hash(cflags)) % 10 ** 8}"
    src = (export(program, fmt, "c", name="approx") + f"\n#define LO_ ((float){float(np.float32(lo))!r})\n"
           f"#define HI_ ((float){float(np.float32(hi))!r})\n#define REF_ {ref}\n" + _HARNESS)
    (d / f"{stem}.c").write_text(src)
    gcc = shutil.which("gcc")
    flags = cflags.split()
    subprocess.run([gcc, *flags, "-o", str(d / stem), str(d / f"{stem}.c"), "-lm"], check=True)
    subprocess.run([gcc, *flags, "-fPIC", "-shared", "-o", str(d / f"{stem}.so"), str(d / f"{stem}.c"), "-lm"],
                   check=True)
    x = _inputs(fmt, lo, hi, a.n, 0, np.float32)
    x.tofile(d / "x.bin")
    out = subprocess.run([str(d / stem), str(d / "x.bin"), str(a.n), str(a.steps), str(a.timings),
                          str(a.measurements)], check=True, capture_output=True, text=True).stdout
    t = np.array([[float(v) for v in ln.split()] for ln in out.splitlines()])
    lib = ctypes.CDLL(str(d / f"{stem}.so"))
    dt = FORMATS[fmt].storage_dtype

    def approx(xs):
        xf = np.ascontiguousarray(xs.astype(np.float32))
        y = np.empty_like(xf)
        lib.run(xf.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(xf.size))
        return y.astype(dt)
    res = ulp_check_function(approx, target, lo, hi, fmt, ref_check=0)
    return dict(ratio_summary(t[:, 0], t[:, 1], a.n * a.steps), max_ulp=res.max_ulp, reference=ref)


def _ratio(r) -> str:
    return (f"ratio {r['ratio']:.3g} (quartiles {r['ratio_q25']:.3g}-{r['ratio_q75']:.3g}, range "
            f"{r['ratio_min']:.3g}-{r['ratio_max']:.3g}); {r['program_ns']:.3g} vs {r['reference_ns']:.3g} ns per "
            f"element per step")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("front", help="run directory or front.json of a float32 (or narrower) run")
    ap.add_argument("--pick", default="best")
    ap.add_argument("--n", type=int, default=16384, help="vector length (default 16384)")
    ap.add_argument("--steps", type=int, default=100, help="applications chained (default 100)")
    ap.add_argument("--timings", type=int, default=40, help="timed calls per measurement, the minimum kept")
    ap.add_argument("--measurements", type=int, default=5, help="interleaved measurements (ratio: their median)")
    ap.add_argument("--cflags", action="append", help="gcc flags for the C export (repeatable; default -O2)")
    ap.add_argument("--recorded", action="store_true",
                    help="print the front's exhaustive figure (the run's end-of-run check, exhaustive_error) "
                         "instead of checking the program in the interpreter again (a 29-op float32 program "
                         "over all 4.3e9 float32 takes 15 to 30 minutes on one core)")
    a = ap.parse_args(argv)
    front = load_front(a.front)
    fmt, target = front.format, front.target
    if not exhaustive_possible(fmt):
        print(f"{a.front}: format {fmt}: this benchmark is for float32 and narrower formats")
        return 2
    e = front.pick(a.pick)
    lo, hi = front.interval
    print(f"{front.describe()}; program {e.name}, cost {e.cost:g}, {e.ops} ops")
    print(f"JAX: chain of {a.steps} steps (output clipped into [{lo:g}, {hi:g}]), n = {a.n}, min of {a.timings} "
          f"timings, median of {a.measurements} interleaved measurements; ratio = reference time / export time")
    if a.recorded and "exhaustive_error" in e.record:
        print(f"  end-of-run check (front):    max {float(e.record['exhaustive_error']):.4g} ulp (exhaustive; "
              f"of the timed export's compiled code in fronts from 2026-11-30 on, of the program before)")
    else:
        interp = ulp_check(e.program, target, lo, hi, fmt, ref_check=0, processes=len(os.sched_getaffinity(0)))
        print(f"  interpreter (the program):   max {interp.max_ulp:.4g} ulp (exhaustive, {interp.points} values)")
    if front.inputs is not None:
        print(f"  the fast export's precondition (the run's speed.inputs: domain): x in [{lo!r}, {hi!r}]")
    for to, label in (("jax", "fast JAX export"), ("jax_exact", "bit-exact JAX export")):
        res = check_exported(e.program, target, lo, hi, fmt, to=to, ref_check=0, inputs=front.inputs)
        r = speed_ratio_program(e.program, fmt, target, lo, hi, to=to, n=a.n, steps=a.steps, timings=a.timings,
                                measurements=a.measurements, inputs=front.inputs)
        flushed = f" ({res.flushed} subnormal inputs flushed to 0, not scored)" if res.flushed else ""
        print(f"  {label + ':':<28} max {res.max_ulp:.4g} ulp{flushed}; vs {r['reference']}: {_ratio(r)}")
    print(f"  (JAX {r['jax_version']} on {r['device']})")
    if libm_name(target) is None or not shutil.which("gcc"):
        print("C: skipped (no C library function for this target, or no gcc)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for cflags in a.cflags or ["-O2"]:
            c = c_bench(e.program, fmt, target, lo, hi, cflags, a, Path(tmp))
            print(f"C (gcc {cflags}), same chain, vs {c['reference']}: max {c['max_ulp']:.4g} ulp; {_ratio(c)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
