"""Sample grids and mpmath reference values, computed once and cached on disk.

References are computed with mpmath at 40 significant digits and stored as a
double-double (hi, lo), so relative errors far below 1e-15 are scored right.
The cache lives in ``$NUMSEARCH_CACHE`` (default ``~/.cache/numsearch``),
keyed by a hash of the target text, the points and the precision.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import mpmath
import numpy as np

from ..primitives.formats import Format

REF_DPS = 40


def cache_dir() -> Path:
    return Path(os.environ.get("NUMSEARCH_CACHE", Path.home() / ".cache" / "numsearch"))


def all_values(fmt: Format, lo: float, hi: float, limit: int) -> np.ndarray | None:
    """Every value of a narrow format in [lo, hi], or None if more than ``limit``."""
    if fmt.precision is None or fmt.precision > 11:
        return None
    dt = fmt.storage_dtype
    bits = np.arange(2 ** (8 * dt.itemsize), dtype=np.uint64).astype(f"uint{8 * dt.itemsize}")
    with np.errstate(invalid="ignore"):
        vals = np.unique(bits.view(dt).astype(np.float64))
    vals = vals[np.isfinite(vals) & (vals >= lo) & (vals <= hi)]
    return vals if len(vals) <= limit else None


def sample_grid(fmt: Format, lo: float, hi: float, n: int) -> np.ndarray:
    """About n points of ``fmt`` in [lo, hi]: endpoints, Chebyshev and uniform
    points (half each), rounded to the format and deduplicated.  A narrow format
    with at most n values in the interval gives all of them."""
    every = all_values(fmt, lo, hi, n)
    if every is not None:
        return every
    k = np.arange(n // 2)
    cheb = (lo + hi) / 2 - (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / (n // 2))
    uni = np.linspace(lo, hi, n - n // 2)
    pts = fmt.round(np.concatenate([[lo, hi], cheb, uni]))
    pts = pts[(pts >= lo) & (pts <= hi)]
    return np.unique(pts)


def _compute(target, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hi = np.empty_like(x)
    lo = np.empty_like(x)
    with mpmath.workdps(REF_DPS):
        for i, xi in enumerate(x.tolist()):
            try:
                v = target.mp(xi)
                if isinstance(v, mpmath.mpc):
                    raise ValueError
                h = float(v)
                hi[i], lo[i] = h, float(v - h) if mpmath.isfinite(v) else 0.0
            except (ValueError, ZeroDivisionError, OverflowError):
                hi[i], lo[i] = np.nan, np.nan
    return hi, lo


def reference(target, x: np.ndarray, cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) float64 arrays with hi + lo = target(x) to ~106 bits."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    key = hashlib.sha256(f"{target.text}|{REF_DPS}|".encode() + x.tobytes()).hexdigest()[:32]
    path = cache_dir() / f"ref-{key}.npz"
    if cache and path.exists():
        try:
            with np.load(path) as z:
                return z["hi"], z["lo"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry: recompute it
    hi, lo = _compute(target, x)
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, hi=hi, lo=lo)
            os.replace(tmp, path)
        except OSError:
            pass  # the cache is an optimisation only
    return hi, lo
