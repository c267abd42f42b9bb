"""Evaluate straight-line programs on arrays.

``evaluate(prog, x, fmt)``: every instruction rounded once to ``fmt`` (constants
are first rounded to ``fmt``; for a mixed format, to its ``compute`` format,
and the result once more to ``fmt``); for ``real`` the result is a double-double
``(hi, lo)`` pair, otherwise a float64 array holding values of ``fmt``.

``value_and_jacobian(prog, x, consts)``: float64 values and the derivatives
with respect to the constants (forward mode), used by constant fitting.
"""
from __future__ import annotations

import numpy as np

from . import doubledouble as ddm
from .formats import FORMATS, Format
from .ops import OPS


def _fmt(fmt) -> Format:
    return FORMATS[fmt] if isinstance(fmt, str) else fmt


def walk(prog, x_value, const_values, step):
    """Run the SSA program: ``step(op_name, args)`` computes each instruction
    from its argument values; returns the value of the output reference."""
    vals: list = []

    def get(r):
        if r == "x":
            return x_value
        return const_values[int(r[1:])] if r[0] == "c" else vals[int(r[1:])]

    with np.errstate(all="ignore"):
        for ins in prog.instrs:
            vals.append(step(ins.op, [get(a) for a in ins.args]))
    return get(prog.out)


def evaluate(prog, x, fmt="real", consts=None):
    fmt = _fmt(fmt)
    x = np.asarray(x, dtype=np.float64)
    cs = prog.consts if consts is None else consts
    if fmt.is_real:
        zero = np.zeros_like(x)
        cv = [(np.full_like(x, c), zero) for c in cs]
        return walk(prog, (x, zero), cv, lambda op, args: OPS[op].real(*args))
    opf = fmt.op_format
    cv = [np.full_like(x, c) for c in opf.round(np.asarray(cs, dtype=np.float64))] if len(cs) else []
    y = walk(prog, x, cv, lambda op, args: OPS[op].rounded(args, opf))
    return fmt.round(y) if opf is not fmt else y


def evaluate_float(prog, x, fmt="real", consts=None) -> np.ndarray:
    """As ``evaluate`` but always a float64 array (double-doubles are summed)."""
    y = evaluate(prog, x, fmt, consts)
    return ddm.dd_to_float(y) if isinstance(y, tuple) else y


def value_and_jacobian(prog, x, consts=None):
    """Float64 value (n,) and Jacobian (n, k) w.r.t. the k constants."""
    x = np.asarray(x, dtype=np.float64)
    cs = np.asarray(prog.consts if consts is None else consts, dtype=np.float64)
    n, k = x.shape[0], cs.shape[0]
    vals: list = []
    tans: list = []  # None means derivative identically zero

    def get(r):
        if r == "x":
            return x, None
        i = int(r[1:])
        if r[0] == "c":
            t = np.zeros((n, k))
            t[:, i] = 1.0
            return cs[i], t
        return vals[i], tans[i]

    with np.errstate(all="ignore"):
        for ins in prog.instrs:
            op = OPS[ins.op]
            got = [get(a) for a in ins.args]
            args = [g[0] for g in got]
            vals.append(op.f64(*args))
            parts = op.partials(*args)
            t = None
            for (_, ta), d in zip(got, parts):
                if ta is None:
                    continue
                term = ta * np.reshape(d, (-1, 1)) if np.ndim(d) else ta * d
                t = term if t is None else t + term
            tans.append(t)
        v, t = get(prog.out)
    v = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
    if t is None:
        t = np.zeros((n, k))
    return v, np.broadcast_to(t, (n, k))
