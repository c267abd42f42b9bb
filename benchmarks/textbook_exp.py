"""The textbook float32 e^x kernel of issue 13, item 1, beside the shipped
``runs/exp_f32`` front: for each, the max ULP error over every float32 of the
domain [-87.3365, 88.7228] (compiled, against float64 NumPy), and the
compute-bound speed ratio against ``jnp.exp`` in this process
(``search.timing.speed_ratio``: a chain of 100 applications to a 16,384-element
vector, minimum of 40 timings, median and quartiles of interleaved
measurements; > 1: faster than ``jnp.exp``).  Run it on an otherwise idle
machine, pinned to one core for the figures the README quotes
(``taskset -c 0``).

The textbook kernel, written in JAX by hand: k = rint(x / ln 2) by the
shift 1.5 * 2^23 (fused with the multiply), Cody-Waite reduction with ln 2 in
two parts (two fmas), a degree-``--degree`` polynomial with float32
coefficients by Horner in fma, and 2^k as two powers of two built from
exponent bits (k, an integer from t's bits, split in halves, so that neither
overflows at the ends of the domain).  Its coefficients are Sollya's (``fpminimax(exp(x), n, [|1,
single...|], [-log(2)/2; log(2)/2], floating, relative)``, Sollya 8.0,
``apt-get install sollya``), copied below: degree 6 is the issue's textbook
kernel, degree 5 its faster, less accurate one.

    python benchmarks/textbook_exp.py                  # degrees 6 and 5, and the shipped front
    python benchmarks/textbook_exp.py --degree 6 --measurements 7
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.domain import whole_domain  # noqa: E402
from numsearch.evaluators.verify import ulp_check_function  # noqa: E402
from numsearch.primitives.formats import FORMATS  # noqa: E402

# Sollya's fpminimax coefficients (u^0 first; the first is 1, fixed by the format list); relative
# error of the polynomial on the reduced interval: 3.7e-9 (degree 6), 1.05e-7 (degree 5)
COEFFS = {
    6: ["0x1p0", "0x1p0", "0x1.fffff8p-2", "0x1.55548ep-3", "0x1.555b98p-5", "0x1.123bccp-7", "0x1.6850e4p-10"],
    5: ["0x1p0", "0x1.fffffp-1", "0x1.fffdbep-2", "0x1.555cf6p-3", "0x1.573c7ep-5", "0x1.0eb7dp-7"],
}


def textbook(degree: int):
    """The textbook kernel as a jitted JAX function of a float32 array."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    f32 = np.float32
    ln2hi = f32(math.ldexp(round(math.ldexp(math.log(2), 16)), -16))     # 16 bits: k * ln2hi exact
    consts = (f32(1 / math.log(2)), f32(1.5 * 2 ** 23), -ln2hi, -f32(math.log(2) - float(ln2hi)),
              *[f32(float.fromhex(c)) for c in COEFFS[degree]])

    def pow2(e):                                   # 2^e from exponent bits, e an int32 array
        return lax.bitcast_convert_type((e + 127) << 23, jnp.float32)

    def kernel(x):
        # the constants through an optimisation barrier, as the exporter does: XLA must not fold (a + S) - S
        il2, s, lhi, llo, *c = lax.optimization_barrier(tuple(jnp.asarray(v) for v in consts))
        t = x * il2 + s
        k = t - s
        r = k * llo + (k * lhi + x)
        p = c[-1]
        for ci in c[-2::-1]:
            p = p * r + ci
        n = lax.bitcast_convert_type(t, jnp.int32) - lax.bitcast_convert_type(s, jnp.int32)   # k, from t's bits
        h = n >> 1
        return p * pow2(h) * pow2(n - h)

    return jax.jit(kernel)


def shipped():
    """The fast JAX export of ``runs/exp_f32.front.json --pick best`` (its precondition: x in the domain)."""
    from numsearch.search.api import load_front
    from numsearch.search.exported import load_exported

    front = load_front(Path(__file__).resolve().parents[1] / "runs" / "exp_f32.front.json")
    return load_exported(front.pick("best").program, "float32", to="jax", inputs=front.inputs).approx


def measure(name: str, fn, measurements: int) -> str:
    from numsearch.search.timing import speed_ratio

    lo, hi = whole_domain("exp", FORMATS["float32"])
    res = ulp_check_function(lambda xs: np.asarray(fn(xs)), "exp", lo, hi, "float32", flush_inputs=True)
    r = speed_ratio(fn, "exp(x)", "float32", lo, hi, measurements=measurements)
    return (f"{name:26s} max {res.max_ulp:.4f} ulp at x = {res.x_max_ulp:<11.7g} vs jnp.exp {r['ratio']:.3f} "
            f"(quartiles {r['ratio_q25']:.3f}-{r['ratio_q75']:.3f}, range {r['ratio_min']:.3f}-{r['ratio_max']:.3f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--degree", type=int, action="append", choices=sorted(COEFFS),
                    help="textbook kernel degree (repeatable; default 6 and 5)")
    ap.add_argument("--measurements", type=int, default=5, help="interleaved measurements (default 5)")
    a = ap.parse_args(argv)
    print("exp, float32, every float32 of [-87.3365, 88.7228], compiled; speed in this process "
          f"(median of {a.measurements} interleaved measurements; > 1: faster than jnp.exp)")
    for d in a.degree or (6, 5):
        print(measure(f"textbook, degree {d}", textbook(d), a.measurements), flush=True)
    print(measure("runs/exp_f32 --pick best", shipped(), a.measurements), flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
