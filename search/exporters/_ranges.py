"""What the fast exporter may assume about a program's values: an interval
that holds each value for every input, and whether it is integer-valued
(interval arithmetic over the instructions, NaN left aside: a NaN input
gives NaN through the clamps ``min``/``max`` and whatever the rest computes).

Used to drop work a fast form does only for arguments that cannot occur: the
JAX ``pow2`` builds 2^k from exponent bits in two integer instructions where
k is proved integer-valued and within the format's exponent range, and adds
trunc and a clamp only where it is not.
"""
from __future__ import annotations

import math

import numpy as np

_WIDEN = 2.0 ** -20   # each computed bound is pushed out by this relative amount (covers the rounding)
_INF = math.inf


def _out(lo: float, hi: float) -> tuple[float, float]:
    if math.isnan(lo) or math.isnan(hi):
        return -_INF, _INF
    w = lambda v, s: v + s * abs(v) * _WIDEN
    return w(lo, -1), w(hi, 1)


def _mul(a, b):
    with np.errstate(invalid="ignore"):
        ps = [x * y for x in a for y in b]
    return (-_INF, _INF) if any(math.isnan(p) for p in ps) else _out(min(ps), max(ps))


def _step(op: str, args: list[tuple[float, float, bool]]) -> tuple[float, float, bool]:
    iv = [(lo, hi) for lo, hi, _ in args]
    ints = [i for _, _, i in args]
    if op in ("min", "max"):
        f = min if op == "min" else max
        return f(iv[0][0], iv[1][0]), f(iv[0][1], iv[1][1]), all(ints)
    if op == "add":
        return (*_out(iv[0][0] + iv[1][0], iv[0][1] + iv[1][1]), all(ints))
    if op == "sub":
        return (*_out(iv[0][0] - iv[1][1], iv[0][1] - iv[1][0]), all(ints))
    if op == "neg":
        return -iv[0][1], -iv[0][0], ints[0]
    if op == "mul":
        return (*_mul(iv[0], iv[1]), all(ints))
    if op == "fma":
        p = _mul(iv[0], iv[1])
        return (*_out(p[0] + iv[2][0], p[1] + iv[2][1]), all(ints))
    if op == "rint":
        lo, hi = iv[0]
        return float(np.rint(lo)), float(np.rint(hi)), True
    if op == "abs":
        lo, hi = iv[0]
        return (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi)), ints[0]
    if op == "pow2":
        lo, hi = iv[0]
        return 0.0, (2.0 ** min(math.trunc(hi), 1100) if math.isfinite(hi) else _INF), False
    return -_INF, _INF, False


def value_ranges(program) -> dict[str, tuple[float, float, bool]]:
    """ref ('x', 'c0', 'v3', ...) -> (lo, hi, integer-valued) for every input x."""
    out: dict[str, tuple[float, float, bool]] = {"x": (-_INF, _INF, False)}
    for i, c in enumerate(program.consts):
        c = float(c)
        out[f"c{i}"] = (c, c, math.isfinite(c) and c == math.trunc(c))
    for k, ins in enumerate(program.instrs):
        with np.errstate(all="ignore"):
            lo, hi, integer = _step(ins.op, [out[a] for a in ins.args])
        out[f"v{k}"] = (lo, hi, integer)
    return out
