"""Exhaustive float32 ULP error of XLA's own jnp.exp (and optionally np.exp).

Every float32 x in [lo, hi] (default [-87.33, 88.72], where exp(x) is a normal
float32, ~2.24e9 points) goes through the verify machinery
(``evaluators.verify.ulp_check_function``): error |y - f| / ulp_float32(f)
against the float64 NumPy reference, the worst point redone with mpmath.
DESIGN.md's anchor: jnp.exp 5.28 ULP, np.exp 2.54 ULP (float32, CPU).

    python benchmarks/ulp_exhaustive.py                  # full range, jnp.exp
    python benchmarks/ulp_exhaustive.py --numpy          # np.exp too
    python benchmarks/ulp_exhaustive.py --lo 0 --hi 1    # a smaller range
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.values import count_values  # noqa: E402
from numsearch.evaluators.verify import ulp_check_function  # noqa: E402


def _progress(label):
    state = {"next": 0.0, "t0": time.perf_counter()}

    def cb(done, total):
        if done / total >= state["next"]:
            el = time.perf_counter() - state["t0"]
            print(f"  {label}: {done / total:6.1%} of {total:,} points, {el:6.1f} s", file=sys.stderr, flush=True)
            state["next"] = (int(done / total * 10) + 1) / 10
    return cb


def run(label, fn, lo, hi, chunk):
    res = ulp_check_function(fn, "exp", lo, hi, "float32", chunk=chunk, progress=_progress(label))
    per = res.seconds / res.points * 1e8
    rc = res.reference_check
    worst = float("nan") if rc.max_ulp_mpmath is None else rc.max_ulp_mpmath
    print(f"{label:10s} max {res.max_ulp:.4f} ULP at x = {res.x_max_ulp!r} ({float(res.x_max_ulp).hex()})"
          f"  mean {res.mean_ulp:.4f} ULP  max rel {res.max_rel:.3e}")
    print(f"{'':10s} {res.points:,} points in {res.seconds:.1f} s ({per:.2f} s per 1e8 points); "
          f"mpmath at the worst point: {worst:.4f} ULP; "
          f"float64 reference vs mpmath on {rc.points} points: max {rc.max_ref_diff_ulp:.2e} ULP")
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lo", type=float, default=-87.33)
    ap.add_argument("--hi", type=float, default=88.72)
    ap.add_argument("--chunk", type=int, default=1 << 18)
    ap.add_argument("--numpy", action="store_true", help="also check NumPy's float32 np.exp")
    ap.add_argument("--no-jax", action="store_true", help="skip jnp.exp")
    a = ap.parse_args(argv)
    print(f"float32 exp, every x in [{a.lo}, {a.hi}]: {count_values('float32', a.lo, a.hi):,} points")
    if not a.no_jax:
        import jax
        import jax.numpy as jnp
        f = jax.jit(jnp.exp)
        print(f"jax {jax.__version__} on {jax.devices()[0]}")
        run("jnp.exp", lambda x: np.asarray(f(x)), a.lo, a.hi, a.chunk)
    if a.numpy:
        run("np.exp", lambda x: np.exp(x), a.lo, a.hi, a.chunk)


if __name__ == "__main__":
    main()
