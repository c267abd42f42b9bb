"""Functional hashing: programs that compute the same function get one hash.

The hash is taken over the program's float64 outputs on fixed probe inputs
spread over the target interval, each rounded to 36 significand bits (so
reassociation noise in the last bits does not split equal functions), and
hashed with BLAKE2b.  The engine keeps the hashes of every function bred or
evaluated and does not breed a child whose hash it knows, so each function is
evaluated once (Unified Functional Hashing, arXiv 2302.05433).
"""
from __future__ import annotations

import hashlib

import numpy as np

from ..primitives.formats import Format
from ..primitives.kernels import evaluate_float, round_to

_Q = Format("q36", 36, -1022, float(np.finfo(np.float64).max), True, "double", "float64", "hash quantiser")


def probe_points(lo: float, hi: float, n: int = 16) -> np.ndarray:
    """Fixed, irregular probe inputs inside [lo, hi] (same for every run)."""
    u = (np.arange(1, n + 1) * 0.6180339887498949) % 1.0
    return lo + (hi - lo) * (0.02 + 0.96 * u)


_BEYOND = np.array([1e30, -1e30, np.inf, -np.inf])   # far outside any interval


def functional_hash(prog, probes: np.ndarray, fmt="float64", ops: bool = False) -> str:
    """The hash of prog's values at the probes; ``ops``: also of its op
    multiset and of its values far outside the interval (``_BEYOND``), so
    that programs of one function on the interval but different instructions,
    or different behaviour beyond it (which may differ in speed: clamps that
    let the fast export prove more), hash apart."""
    y = evaluate_float(prog, np.concatenate([probes, _BEYOND]) if ops else probes, fmt)
    q = round_to(_Q, np.where(np.isnan(y), np.nan, y))
    q[np.isnan(q)] = np.nan  # one NaN payload
    q = q + 0.0  # -0.0 -> 0.0
    h = hashlib.blake2b(q.tobytes(), digest_size=8).hexdigest()
    if ops:
        h += "." + hashlib.blake2b(" ".join(sorted(i.op for i in prog.instrs)).encode(), digest_size=3).hexdigest()
    return h
