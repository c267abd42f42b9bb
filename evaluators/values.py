"""The values of a format in an interval [lo, hi]: every one of them, or a random few.

Every value: float32 by enumerating bit patterns (``float32_range``: runs of
patterns, no array of all 2^32), narrow formats (float16, bfloat16, float8) via
``reference.all_values``; ``count_values`` says how many there are and
``chunks`` hands them out in arrays of the format's storage dtype.
``random_values``: n seeded values, half uniform in value and half uniform
over bit patterns (so every binade of the interval is hit).
``OrderedValues``: the finite values of a format in increasing order, as
integer keys (bisection over values, points evenly spaced in order).
"""
from __future__ import annotations

import math

import numpy as np

from ..primitives.formats import FORMATS, Format

from . import reference as refmod


def float32_keys(lo: float, hi: float) -> tuple[int, int]:
    """``OrderedValues`` keys of the first and last float32 in [lo, hi]."""
    big = float(np.finfo(np.float32).max)
    lo32 = np.float32(max(lo, -big))
    hi32 = np.float32(min(hi, big))
    if float(lo32) < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    if float(hi32) > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    ov = OrderedValues(FORMATS["float32"])
    return ov.key(lo32), ov.key(hi32)


def float32_range(lo: float, hi: float) -> list[tuple[int, int, int]]:
    """The float32 values in [lo, hi] as (sign bits, first magnitude bits, end
    magnitude bits) runs of bit patterns: every value once, +0 only."""
    k0, k1 = float32_keys(lo, hi)
    runs = []
    if k0 < 0:  # negative values -mag for mag in [max(1, -k1), -k0]
        runs.append((0x80000000, max(1, -k1), -k0 + 1))
    if k1 >= 0:
        runs.append((0, max(0, k0), k1 + 1))
    return [r for r in runs if r[2] > r[1]]


def _float32_chunks(lo, hi, chunk):
    for sign, a, b in float32_range(lo, hi):
        for s in range(a, b, chunk):
            bits = np.arange(s, min(s + chunk, b), dtype=np.uint32)
            if sign:
                bits |= np.uint32(sign)
            yield bits.view(np.float32)


def count_values(fmt_name: str, lo: float, hi: float) -> int:
    """How many values of the format lie in [lo, hi] (float32 and narrower)."""
    fmt = FORMATS[fmt_name]
    if fmt.name == "float32":
        return sum(b - a for _, a, b in float32_range(lo, hi))
    vals = _all_values(fmt, lo, hi)
    if vals is None:
        raise ValueError(f"cannot enumerate {fmt_name}")
    return len(vals)


def _all_values(fmt: Format, lo: float, hi: float):
    with np.errstate(invalid="ignore"):  # NaN bit patterns
        return refmod.all_values(fmt, lo, hi, 1 << 62)


def chunks(fmt: Format, lo: float, hi: float, chunk: int):
    """(total, iterator over arrays of the format's storage dtype)."""
    if fmt.name == "float32":
        return count_values("float32", lo, hi), _float32_chunks(lo, hi, chunk)
    vals = _all_values(fmt, lo, hi)
    if vals is None:
        raise ValueError(f"exhaustive check: cannot enumerate format {fmt.name!r}")
    dt = fmt.storage_dtype
    return len(vals), (vals[i:i + chunk].astype(dt) for i in range(0, len(vals), chunk))


class OrderedValues:
    """The finite values of a format in increasing order, indexed by integers."""

    def __init__(self, fmt: Format):
        self.fmt = fmt
        every = refmod.all_values(fmt, -math.inf, math.inf, 1 << 17)
        if every is not None:                         # narrow: a table
            self.table = every
            self.lo_key, self.hi_key = 0, len(every) - 1
            return
        self.table = None
        self.ftype, self.itype = (np.float32, np.int32) if fmt.precision <= 24 else (np.float64, np.int64)
        big = self.ftype(fmt.max_finite)
        self.lo_key, self.hi_key = self.key(-big), self.key(big)

    def key(self, v) -> int:
        if self.table is not None:
            return int(np.searchsorted(self.table, v))
        b = int(np.array(v, dtype=self.ftype).view(self.itype))
        return b if b >= 0 else -(b & int(np.iinfo(self.itype).max))

    def value(self, k: int) -> float:
        return float(self.values(np.array([k]))[0])

    def values(self, k: np.ndarray) -> np.ndarray:
        """The values (float64) of integer keys."""
        k = np.asarray(k, dtype=np.int64)
        if self.table is not None:
            return self.table[k]
        utype = np.dtype(self.itype).str.replace("i", "u")
        sign = np.array(1 << (8 * np.dtype(self.itype).itemsize - 1), dtype=utype)
        mag = np.abs(k).astype(utype)
        bits = np.where(k >= 0, mag, mag | sign)
        return bits.view(self.ftype).astype(np.float64)

    def spread(self, lo: float, hi: float, n: int) -> np.ndarray:
        """n values of [lo, hi] evenly spaced in order (so each binade gets its
        share of points, as many near 2^-100 as near 1), deduplicated."""
        k = np.unique(np.linspace(self.key(lo), self.key(hi), n).round().astype(np.int64))
        x = self.values(k)
        return x[(x >= lo) & (x <= hi)]


def random_values(fmt: Format, lo: float, hi: float, n: int, rng) -> np.ndarray:
    """n values of fmt in [lo, hi]: half uniform in value, half uniform over
    float32/float64 bit patterns (so every binade is hit), rounded to fmt."""
    wide = fmt.precision is None or fmt.precision > 24
    ov = OrderedValues(FORMATS["float64" if wide else "float32"])
    ftype = ov.ftype
    big = float(np.finfo(ftype).max)
    lo, hi = max(lo, -big), min(hi, big)
    u = rng.uniform(lo, hi, n - n // 2)

    def key(v, toward):
        v = ftype(v)
        if (toward > 0 and float(v) < lo) or (toward < 0 and float(v) > hi):
            v = np.nextafter(v, ftype(toward * np.inf))
        return ov.key(v)

    k = rng.integers(key(lo, 1), max(key(lo, 1), key(hi, -1)) + 1, n // 2, dtype=np.int64)
    x = fmt.round(np.concatenate([u, ov.values(k)]))
    return x[(x >= lo) & (x <= hi)]
