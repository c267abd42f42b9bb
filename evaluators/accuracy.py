"""Error metrics: each is a per-point weight w, and error(x) = |approx(x) - f(x)| * w(x).

relative: w = 1/|f|; absolute: w = 1; ulp: w = 1/ulp_fmt(f) (the spacing of the
run's format at f; for ``real`` that of a 106-bit format).  The difference is
taken in double-double, so the figures hold far below 1e-15.  Non-finite
outputs score inf; where f = 0 a relative error is 0 if the output is 0 too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..primitives import doubledouble as ddm
from ..primitives import kernels
from ..primitives.formats import Format
from ..primitives.registry import Registry


@dataclass(frozen=True)
class Metric:
    name: str
    weight: Callable[[np.ndarray, Format], np.ndarray]  # (ref_hi, fmt) -> w
    doc: str


METRICS: Registry[Metric] = Registry("metric")


def _rel_w(f, fmt):
    with np.errstate(divide="ignore"):
        return 1.0 / np.abs(f)


METRICS.register("relative", Metric("relative", _rel_w, "|approx - f| / |f|"))
METRICS.register("absolute", Metric("absolute", lambda f, fmt: np.ones_like(f), "|approx - f|"))
def _ulp_w(f, fmt):
    with np.errstate(over="ignore", divide="ignore"):
        return 1.0 / fmt.ulp(f)


METRICS.register("ulp", Metric("ulp", _ulp_w, "|approx - f| / ulp(f) in the run's format"))


def pointwise_error(y, ref, weight: np.ndarray) -> np.ndarray:
    """Per-point error of y (float64 array or double-double) against ref (hi, lo)."""
    y2 = y if isinstance(y, tuple) else ddm.dd(y)
    with np.errstate(all="ignore"):
        d = ddm.dd_sub(y2, ref)
        diff = np.abs(d[0] + d[1])
        err = diff * weight
        exact = (diff == 0) | (np.isinf(ref[0]) & (y2[0] == ref[0]))  # the same infinity too
        err[~np.isfinite(y2[0])] = np.inf
        err[np.isnan(err)] = np.inf
        err[exact] = 0.0  # covers f = 0 with a relative metric, and an overflow where f overflows
    return err


def max_error(y, ref, weight: np.ndarray) -> float:
    """max of ``pointwise_error`` (compiled where the kernels are available)."""
    m = kernels.max_error(y, ref, weight) if np.ndim(weight) == 1 else None
    if m is not None:
        return m
    e = pointwise_error(y, ref, weight)
    return float(e.max()) if e.size else float("inf")
