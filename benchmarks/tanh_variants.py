"""The float32 tanh template and its variants, side by side: for each, the op
count, the max ULP error of the fast JAX export as compiled over every float32
(the figure of record; subnormal inputs that XLA:CPU flushes are set aside),
where it is reached, and the compute-bound speed ratio against ``jnp.tanh`` on
one core (``search.timing.speed_ratio_program``: median and quartiles of
interleaved measurements).

The variants are ``search.templates.tanh_program`` with other settings: the
small piece (a rational with its own division, or a polynomial), the
evaluation scheme of each polynomial, the degrees, the large piece divided
through by 2^k or not, its form, the cut, the clamp.  They are the template's
coefficients (least squares on Chebyshev nodes, rounded to float32), not
refitted: what a search starts from.  Each exhaustive check takes about a
minute on two cores.

    python benchmarks/tanh_variants.py                 # every variant
    python benchmarks/tanh_variants.py shipped sub
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from numsearch.evaluators.domain import whole_domain  # noqa: E402
from numsearch.primitives.formats import FORMATS  # noqa: E402
from numsearch.search.exported import check_exported  # noqa: E402
from numsearch.search.templates import tanh_program  # noqa: E402
from numsearch.search.timing import speed_ratio_program  # noqa: E402

_OLD = dict(small="poly", down=False)           # the small piece a polynomial, D scaled up by 2^k
_SUB6 = dict(_OLD, degree=6, w_degree=5, cut=0.95, form="sub", top=False)
VARIANTS = {   # name: (what it is, tanh_program's settings)
    "shipped": ("the template, degree 1: a + (a t) N(t) / (t + q0) below 0.69, (V - 2^(1-k)) / V above, "
                "V = D 2^-k; clamp 8.563, numerator V from 13 ln 2 on", dict(degree=1)),
    "rat-up": ("as shipped, D = (2^k r) W + (2^k + 1) and (D - 2) / D: 2^k r one op more", dict(degree=1, down=False)),
    "poly-down": ("as shipped, P of degree 4 below the cut (four fmas, no division)", dict(degree=4, small="poly")),
    "poly-up": ("P of degree 4 and (D - 2) / D: the template before this session but for its saturation "
                "(the numerator D selected, not the result 1)", dict(_OLD, degree=4)),
    "rat2": ("as shipped, N of degree 2 (cut 0.75)", dict(degree=2)),
    "sub": ("cut 0.95, P of degree 6, 1 - 2 / D, clamp 9.1", _SUB6),
    "sub-horner-unscaled": ("as sub, W by Horner and D = 2^k (r W) + (2^k + 1)",
                            dict(_SUB6, w_scheme="horner", scaled=False)),
    "sub-horner": ("as sub, W by Horner", dict(_SUB6, w_scheme="horner")),
    "sub-estrin-both": ("as sub, P by Estrin too", dict(_SUB6, p_scheme="estrin")),
    "sub-w4": ("as sub, W of degree 4 (one fma less)", dict(_SUB6, w_degree=4)),
    "sub-p5": ("as sub, P of degree 5 (one fma less)", dict(_SUB6, degree=5)),
    "no-top": ("as poly-up, clamped at 9.1 without the select: D - 2 a tie for D in [2^25, 2^26)",
               dict(_OLD, degree=4, top=False)),
    "p5": ("as poly-up, P of degree 5 (cut 0.88)", dict(_OLD, degree=5)),
    "p4-w4": ("as poly-up, W of degree 4", dict(_OLD, degree=4, w_degree=4)),
}


def measure(name: str, measurements: int) -> str:
    what, kw = VARIANTS[name]
    kw = dict(kw)
    degree = kw.pop("degree")
    prog = tanh_program(FORMATS["float32"], degree, **kw)
    lo, hi = whole_domain("tanh", FORMATS["float32"])
    res = check_exported(prog, "tanh", lo, hi, "float32", to="jax", ref_check=0)
    r = speed_ratio_program(prog, "float32", "tanh", lo, hi, measurements=measurements)
    return (f"{name:19s} {prog.ops:3d} ops  max {res.max_ulp:.4f} ulp at x = {res.x_max_ulp:<11.7g} vs jnp.tanh {r['ratio']:.3f} "
            f"(quartiles {r['ratio_q25']:.3f}-{r['ratio_q75']:.3f})  {what}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="*", help=f"any of {', '.join(VARIANTS)} (default: all)")
    ap.add_argument("--measurements", type=int, default=5, help="interleaved measurements (default 5)")
    a = ap.parse_args(argv)
    bad = [v for v in a.variants if v not in VARIANTS]
    if bad:
        print(f"unknown variant {bad[0]!r}: one of {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    print("tanh, float32, every float32; fast JAX export, compiled; speed on one core "
          f"(median of {a.measurements} interleaved measurements; > 1: faster than jnp.tanh)")
    for name in a.variants or VARIANTS:
        print(measure(name, a.measurements), flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
