"""Continued-fraction chains: recognise them, and start their fit from Euclid.

A chain is a program whose output, after k trailing squarings (r * r), is

    a + b1 / (x + s1 + b2 / (x + s2 + ... + bn / (x + sn)))

with each sum written by add/sub in any order and sign (x - s, s - b/D, ...),
each b a constant and each a, s a sum of constants or absent (then 0); a
constant may serve several places (a shared u = x - 1/2).  For such a program the best
constants are known without a search: the rational minimax of type (n, n)
(or (n - 1, n) without a) of f^(1/2^k), put in this form by Euclid's
algorithm (``evaluators.contfrac.cf_levels``).  Local fitting from random
starts rarely finds them (the fit's Jacobian is near singular), so the
evaluator gives chains this one more start: the least change of the
program's constants that gives every a, b, s its value (least squares where
shared constants make them disagree; absent ones stay 0), and the usual fit
goes on from there.  Nothing here knows the target: the evolution
builds the chain, classical theory fits it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..primitives.program import Program


@dataclass(frozen=True)
class Chain:
    squarings: int                 # k trailing r * r
    depth: int                     # n levels
    has_a: bool                    # type (n, n) if a is present, else (n - 1, n)
    rows: tuple                    # (role 'a' | 'b' | 's', level 1..n, ((const index, sign), ...)):
                                   # the signed sum of those constants is that a, b or s


def _terms(p: Program, ref: str, sign: int, out: list) -> None:
    """Flatten the add/sub tree at ref into signed leaves."""
    if ref[0] == "v":
        ins = p.instrs[int(ref[1:])]
        if ins.op in ("add", "sub"):
            _terms(p, ins.args[0], sign, out)
            _terms(p, ins.args[1], sign if ins.op == "add" else -sign, out)
            return
    out.append((sign, ref))


def _split(p: Program, ref: str):
    """Leaves of the sum at ref as (x signs, constants, divisions c / D, other)."""
    leaves: list = []
    _terms(p, ref, 1, leaves)
    xs, cs, ds, other = [], [], [], []
    for s, r in leaves:
        if r == "x":
            xs.append(s)
        elif r[0] == "c":
            cs.append((s, int(r[1:])))
        else:
            ins = p.instrs[int(r[1:])]
            if ins.op == "div" and ins.args[0][0] == "c":
                ds.append((s, int(ins.args[0][1:]), ins.args[1]))
            else:
                other.append(r)
    return xs, cs, ds, other


def chain_of(p: Program) -> Chain | None:
    """The chain p is, or None."""
    ref, k = p.out, 0
    while ref[0] == "v" and (ins := p.instrs[int(ref[1:])]).op == "mul" and ins.args[0] == ins.args[1]:
        ref, k = ins.args[0], k + 1
    xs, cs, ds, other = _split(p, ref)
    if xs or other or len(ds) != 1:
        return None
    rows = [("a", 0, tuple((i, s) for s, i in cs))] if cs else []
    (eps, cb, den), sigma_out, level = ds[0], 1, 1
    while True:
        xs, cs, ds, other = _split(p, den)
        if other or len(xs) != 1 or len(ds) > 1:
            return None
        sigma = xs[0]
        # eps*cb/D with D = sigma*(x + s + ...): b = eps*sigma*sigma_out*cb, s = sigma*(sum of D's constants)
        rows.append(("b", level, ((cb, eps * sigma * sigma_out),)))
        if cs:
            rows.append(("s", level, tuple((i, s * sigma) for s, i in cs)))
        if not ds:
            return Chain(k, level, rows[0][0] == "a", tuple(rows))
        (eps, cb, den), sigma_out, level = ds[0], sigma, level + 1


@lru_cache(maxsize=256)
def _levels(target: str, squarings: int, lo: float, hi: float, relative: bool, m: int, n: int):
    """Euclid levels (a, ((b, s), ...)) of the rational minimax of type (m, n) of
    target^(1/2^squarings), as floats, or None."""
    from ..evaluators.baselines import BASELINES, Problem, cached_fit
    from ..evaluators.contfrac import cf_levels
    from ..evaluators.targets import Target

    root = target if squarings == 0 else f"({Target(target).expression}) ** (1 / {2 ** squarings})"
    fit = cached_fit(Problem(root, lo, hi, relative, "float64"), BASELINES["rational_minimax"], (m, n))
    if fit is None or fit.den is None:
        return None
    got = cf_levels(fit.num, fit.den)
    if got is None or len(got[1]) != n:
        return None
    a, levels = got
    return float(a), tuple((float(b), float(s)) for b, s in levels)


def chain_start(p: Program, target: str, lo: float, hi: float, relative: bool,
                positive: bool) -> np.ndarray | None:
    """Constants for chain p from Euclid on the rational minimax of f^(1/2^k), or
    None (p no chain, f not positive where k > 0, or no such minimax)."""
    ch = chain_of(p)
    if ch is None or (ch.squarings and not positive):
        return None
    got = _levels(target, ch.squarings, float(lo), float(hi), relative, ch.depth - (not ch.has_a), ch.depth)
    if got is None:
        return None
    a, levels = got
    # the least change of p's constants that makes every row's sum its value (in the
    # least-squares sense where rows share constants and disagree)
    c0 = np.asarray(p.consts, dtype=float)
    c0 = np.where(np.isfinite(c0), c0, 0.0)    # a bred constant can be inf
    A = np.zeros((len(ch.rows), len(c0)))
    t = np.zeros(len(ch.rows))
    for r, (role, level, terms) in enumerate(ch.rows):
        for i, sign in terms:
            A[r, i] += sign
        t[r] = a if role == "a" else levels[level - 1][0 if role == "b" else 1]
    if not np.all(np.isfinite(t)):
        return None
    start = c0 + np.linalg.lstsq(A, t - A @ c0, rcond=None)[0]
    return start if np.all(np.isfinite(start)) else None
