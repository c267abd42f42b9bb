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


def _terms(p: Program, ref: str, sign: int, out: list, var: str = "x") -> None:
    """Flatten the add/sub tree at ref into signed leaves (``var`` is a leaf)."""
    if ref[0] == "v" and ref != var:
        ins = p.instrs[int(ref[1:])]
        if ins.op in ("add", "sub"):
            _terms(p, ins.args[0], sign, out, var)
            _terms(p, ins.args[1], sign if ins.op == "add" else -sign, out, var)
            return
    out.append((sign, ref))


def _split(p: Program, ref: str, var: str = "x"):
    """Leaves of the sum at ref as (``var`` signs, constants, divisions c / D, other)."""
    leaves: list = []
    _terms(p, ref, 1, leaves, var)
    xs, cs, ds, other = [], [], [], []
    for s, r in leaves:
        if r == var:
            xs.append(s)
        elif r[0] == "c":
            cs.append((s, int(r[1:])))
        elif r == "x":        # x itself, in a chain in another variable
            other.append(r)
        else:
            ins = p.instrs[int(r[1:])]
            if ins.op == "div" and ins.args[0][0] == "c":
                ds.append((s, int(ins.args[0][1:]), ins.args[1]))
            else:
                other.append(r)
    return xs, cs, ds, other


def _unsquared(p: Program) -> tuple[str, int]:
    """The ref under p's trailing squarings (r * r), and how many there are."""
    ref, k = p.out, 0
    while ref[0] == "v" and (ins := p.instrs[int(ref[1:])]).op == "mul" and ins.args[0] == ins.args[1]:
        ref, k = ins.args[0], k + 1
    return ref, k


def chain_of(p: Program, var: str = "x") -> Chain | None:
    """The chain p is (in x, or in the value ``var`` of one of its instructions), or None."""
    ref, k = _unsquared(p)
    xs, cs, ds, other = _split(p, ref, var)
    if xs or other or len(ds) != 1:
        return None
    rows = [("a", 0, tuple((i, s) for s, i in cs))] if cs else []
    (eps, cb, den), sigma_out, level = ds[0], 1, 1
    while True:
        xs, cs, ds, other = _split(p, den, var)
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
    return _least_change(p, [(terms, a if role == "a" else levels[level - 1][0 if role == "b" else 1])
                             for role, level, terms in ch.rows])


def _least_change(p: Program, rows) -> np.ndarray | None:
    """The least change of p's constants that makes every row's signed sum of constants
    (``rows``: (((index, sign), ...), value)) its value, in the least-squares sense where
    rows share constants and disagree; None if a value or the result is not finite."""
    c0 = np.asarray(p.consts, dtype=float)
    c0 = np.where(np.isfinite(c0), c0, 0.0)    # a bred constant can be inf
    t = np.array([v for _, v in rows], dtype=float)
    if not np.all(np.isfinite(t)):
        return None
    A = np.zeros((len(rows), len(c0)))
    for r, (terms, _) in enumerate(rows):
        for i, sign in terms:
            A[r, i] += sign
    start = c0 + np.linalg.lstsq(A, t - A @ c0, rcond=None)[0]
    return start if np.all(np.isfinite(start)) else None


# --- chains in s = t + phi / t, t = x + shift: AutoNumerics-Zero's family, centred -------------------------------
#
# A chain whose variable is not x but s = t + phi/t (t = x + shift; t and s each used twice),
#
#     a + b1 / (s + s1)                  (depth 1: a rational of type (2, 2) in t)
#     a + b1 / (s + s1 + b2 / s)         (depth 2: type (4, 4) in t, denominator
#                                         t^4 + s1 t^3 + (2 phi + b2) t^2 + s1 phi t + phi^2)
#
# then squared k times.  For 2^x on [0, 1], depth 2 squared twice (10 ops) reaches 2.78e-15
# (benchmarks/fitter.py, s10).  Its start: the rational minimax of f^(1/2^k) of that type in t,
# t centred on the interval, its denominator's coefficients mapped onto (s1, phi, b2) and its
# numerator's two leading ones onto (a, b1); the family has one constraint fewer than the
# type, so the start is not yet a fit: ``fitting.trust_fit`` takes it from there.


@dataclass(frozen=True)
class SChain:
    outer: Chain               # the chain in w = tau (t + phi / t)
    tau: int
    u_terms: tuple             # u = sigma_u x + (signed sum of these constants): t = sigma_u u
    sigma_u: int
    f_const: tuple             # (index, sign): phi = sign * that constant


def _cdiv(p: Program, r: str) -> tuple[int, str] | None:
    """(numerator constant, denominator ref) where r is div(constant, D), else None."""
    if r[0] != "v":
        return None
    ins = p.instrs[int(r[1:])]
    return (int(ins.args[0][1:]), ins.args[1]) if ins.op == "div" and ins.args[0][0] == "c" else None


def _s_var(p: Program, w: str):
    """(F's constant index, eps, sigma_w, u) where instruction w is u + eps F/u (sigma_w = 1) or
    F/u - u (sigma_w = -1, eps = 1) and so on, with u = +-x + constants; else None."""
    ins = p.instrs[int(w[1:])]
    if ins.op not in ("add", "sub"):
        return None
    a0, a1 = ins.args
    d0, d1 = _cdiv(p, a0), _cdiv(p, a1)
    if d1 is not None and d1[1] == a0:          # w = u +- F/u
        (f, u), sigma_w, eps = d1, 1, (1 if ins.op == "add" else -1)
    elif d0 is not None and d0[1] == a1:        # w = F/u +- u
        (f, u), sigma_w, eps = d0, (1 if ins.op == "add" else -1), 1
    else:
        return None
    xs, cs, ds, other = _split(p, u)
    return (f, eps, sigma_w, xs[0], tuple((i, s) for s, i in cs)) if len(xs) == 1 and not ds and not other else None


def schain_of(p: Program) -> SChain | None:
    """The chain in s = t + phi/t that p is (depth 1, or 2 without a constant in the innermost
    level), or None."""
    for k in range(len(p.instrs)):
        got = _s_var(p, f"v{k}")
        if got is None:
            continue
        outer = chain_of(p, var=f"v{k}")
        if outer is None or outer.depth > 2 or any(role == "s" and level == 2 for role, level, _ in outer.rows):
            continue
        f, eps, sigma_w, sigma_u, u_terms = got
        return SChain(outer, sigma_w * sigma_u, u_terms, sigma_u, (f, eps * sigma_w))
    return None


@lru_cache(maxsize=256)
def _s_levels(target: str, squarings: int, lo: float, hi: float, relative: bool, depth: int):
    """(shift, phi, a, b1, s1, b2) of the depth-``depth`` chain in s = t + phi/t, t = x + shift,
    mapped from the rational minimax of type (2 depth, 2 depth) of target^(1/2^squarings) in t
    (b2 None for depth 1), or None."""
    import mpmath

    from ..evaluators.baselines import BASELINES, Problem, cached_fit
    from ..evaluators.targets import Target

    root = target if squarings == 0 else f"({Target(target).expression}) ** (1 / {2 ** squarings})"
    fit = cached_fit(Problem(root, lo, hi, relative, "float64"), BASELINES["rational_minimax"], (2 * depth,) * 2)
    if fit is None or fit.den is None or len(fit.den) != 2 * depth + 1 or len(fit.num) != 2 * depth + 1:
        return None
    shift = -(lo + hi) / 2 - (hi - lo) * 2.0 ** -20   # off the centre a little: grids hold the centre, the pole
    m = mpmath.mpf(-shift)                              # of phi/t must not sit on a point (0 * inf in the Jacobian)

    def in_t(c):     # coefficients of c(t - shift) = c(t + m), ascending in t
        n = len(c)
        return [sum(c[j] * mpmath.binomial(j, i) * m ** (j - i) for j in range(i, n)) for i in range(n)]
    num, den = in_t(fit.num), in_t(fit.den)
    lead = den[-1]
    if lead == 0:
        return None
    num, den = [v / lead for v in num], [v / lead for v in den]
    a = num[-1]
    if depth == 1:       # t^2 + s1 t + phi;  N = a D + b1 t
        s1, phi = den[1], den[0]
        return float(shift), float(phi), float(a), float(num[1] - a * s1), float(s1), None
    s1 = den[3]          # t^4 + s1 t^3 + (2 phi + b2) t^2 + s1 phi t + phi^2;  N = a D + b1 t (t^2 + phi)
    if s1 == 0:
        return None
    phi = den[1] / s1
    b2 = den[2] - 2 * phi
    return float(shift), float(phi), float(a), float(num[3] - a * s1), float(s1), float(b2)


def schain_start(p: Program, target: str, lo: float, hi: float, relative: bool,
                 positive: bool) -> np.ndarray | None:
    """Constants for the chain in s that p is (``schain_of``), from ``_s_levels``: the least
    change of p's constants that gives every a, b, s, the shift and phi their values; or None."""
    sc = schain_of(p)
    if sc is None or (sc.outer.squarings and not positive):
        return None
    got = _s_levels(target, sc.outer.squarings, float(lo), float(hi), relative, sc.outer.depth)
    if got is None:
        return None
    shift, phi, a, b1, s1, b2 = got
    # in w = tau (t + phi/t): a + b1/(w + s1' + b2/w) with b1' = tau b1, s1' = tau s1 (b2 unchanged)
    value = {("a", 0): a, ("b", 1): sc.tau * b1, ("s", 1): sc.tau * s1, ("b", 2): b2}
    rows = [(terms, value[(role, level)]) for role, level, terms in sc.outer.rows]
    rows += [(sc.u_terms, sc.sigma_u * shift), ((sc.f_const,), phi)]
    return None if any(v is None for _, v in rows) else _least_change(p, rows)
