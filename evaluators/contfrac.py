"""Rationals as numsearch Programs in continued-fraction form.

p/q is written as its polynomial part plus a continued fraction (Euclid's
algorithm on p and q, in mpmath):

    p/q = P(x) + b1 / (Q1(x) + b2 / (Q2(x) + ... + bk / Qk(x)))

with each Qi monic.  For a normal rational of type (m, n) every Qi has degree 1
(x + ai), and the form costs 3n - 1 ops for the fraction (add, add, div per
level, the innermost level add, div) plus, when m >= n, 1 add and 2(m - n) ops
for P's Horner form: 3n ops for type (n, n), where the Horner quotient of
``evaluators.horner`` costs 4n.  Same function, fewer ops; the rounding of the
constants to the format and the evaluation order differ, so the Program is
scored like any other (its error in the task's format), never assumed equal.

Non-normal cases (a quotient of degree >= 2) get Qi in monic Horner form.
Returns None when the denominator is zero or the algorithm meets a remainder
that vanishes to working precision before the end.
"""
from __future__ import annotations

import mpmath
import numpy as np

from ..primitives.formats import FORMATS, Format
from ..primitives.program import Instr, Program

from .horner import append_horner

DPS = 60


def _strip(c: list) -> list:
    top = max((abs(v) for v in c), default=0)
    c = list(c)
    while len(c) > 1 and abs(c[-1]) <= mpmath.mpf(10) ** (-DPS + 10) * top:
        c.pop()
    return c


def _divmod(a: list, b: list) -> tuple[list, list]:
    """Polynomial division (ascending coefficients): a = q b + r, deg r < deg b."""
    a = list(a)
    q = [mpmath.mpf(0)] * max(len(a) - len(b) + 1, 1)
    for k in range(len(a) - len(b), -1, -1):
        f = a[k + len(b) - 1] / b[-1]
        q[k] = f
        for j, bj in enumerate(b):
            a[k + j] -= f * bj
    return q, _strip(a[: len(b) - 1] or [mpmath.mpf(0)])


def cf_cost(m: int, n: int) -> int:
    """Ops of a normal type-(m, n) rational in this form (n >= 1, m >= n - 1)."""
    return 3 * n - 1 + (1 + 2 * (m - n) if m >= n else 0)


def cf_program(num, den, fmt: Format | str = "real") -> Program | None:
    """Program for sum num[k] x^k / sum den[k] x^k, constants rounded to fmt."""
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    rnd = float if fmt.is_real else (lambda v: float(fmt.op_format.round(np.float64(float(v)))))
    consts: list = []
    instrs: list = []

    def const(v) -> str:
        consts.append(rnd(v))
        return f"c{len(consts) - 1}"

    def emit(op, *args) -> str:
        instrs.append(Instr(op, args))
        return f"v{len(instrs) - 1}"

    def fraction(r: list, d: list) -> str | None:
        """Reference to r/d (deg r < deg d, r != 0)."""
        q, rest = _divmod(d, r)
        lead = q[-1]
        if lead == 0:
            return None
        ref = append_horner([c / lead for c in q[:-1]], consts, instrs, monic=True, rnd=rnd)
        if any(c != 0 for c in rest):
            inner = fraction([c / lead for c in rest], r)
            if inner is None:
                return None
            ref = emit("add", ref, inner)
        return emit("div", const(1 / lead), ref)

    with mpmath.workdps(DPS):
        p = _strip([mpmath.mpf(c) for c in num])
        q = _strip([mpmath.mpf(c) for c in den])
        if all(c == 0 for c in q):
            return None
        if len(q) == 1:
            return None  # a polynomial: Horner's form is the classical one
        poly, rest = _divmod(p, q) if len(p) >= len(q) else ([mpmath.mpf(0)], p)
        out = append_horner(poly, consts, instrs, rnd=rnd) if any(c != 0 for c in poly) else None
        if any(c != 0 for c in rest):
            frac = fraction(rest, q)
            if frac is None:
                return None
            out = frac if out is None else emit("add", frac, out)
        if out is None:
            out = const(0)
    return Program(tuple(consts), tuple(instrs), out)


def cf_levels(num, den) -> tuple | None:
    """Euclid's algorithm for a normal rational of type (n, n) or (n - 1, n):

        num/den = a + b1 / (x + s1 + b2 / (x + s2 + ... + bn / (x + sn)))

    as (a, ((b1, s1), ..., (bn, sn))) in mpmath numbers (a = 0 for type
    (n - 1, n)); None when num/den is not of that form (n = 0, deg num > deg
    den, or a remainder whose degree drops by more than one)."""
    with mpmath.workdps(DPS):
        p = _strip([mpmath.mpf(c) for c in num])
        q = _strip([mpmath.mpf(c) for c in den])
        if len(q) < 2 or len(p) > len(q) or q[-1] == 0:
            return None
        p, q = [c / q[-1] for c in p], [c / q[-1] for c in q]   # q monic
        a = p[-1] if len(p) == len(q) else mpmath.mpf(0)
        r = _strip([(p[i] if i < len(p) else 0) - a * q[i] for i in range(len(q) - 1)])
        levels = []
        while True:                                     # value = r / q, q monic
            if len(r) != len(q) - 1 or r[-1] == 0:
                return None
            b = r[-1]
            m = [c / b for c in r]                      # monic, one degree less than q
            quot, r = _divmod(q, m)                     # q/m = x + s + r/m
            levels.append((b, quot[0]))
            if len(m) == 1:
                return a, tuple(levels)
            q = m
