"""Polynomials and rationals as numsearch Programs, in Horner form.

Coefficients (ascending powers of x, any real numbers: mpmath or float) are
rounded to the format (float64 for ``real``) and evaluated with ``mul`` and
``add`` only, plus one ``div`` for a rational.  Op counts (every instruction
depends on x, so each costs one op):

- polynomial of degree d >= 1: ``v = c_d * x; v = v + c_{d-1}; v = v * x; ...``
  d multiplications and d additions, 2d ops (degree 0: a constant, 0 ops);
- rational p/q of type (m, n), n >= 1: p and q are first divided by q's leading
  coefficient, so q is monic and its Horner form starts with ``x + b_{n-1}``
  (one ``add``, no ``mul``): 2n - 1 ops; p costs 2m (0 if m = 0: a constant);
  one ``div``: 2(m + n) ops, as many as a polynomial of degree m + n, which has
  the same number (m + n + 1) of free coefficients.

Trailing zero coefficients are dropped (a lower true degree costs less).
"""
from __future__ import annotations

import mpmath
import numpy as np

from ..primitives.formats import FORMATS, Format
from ..primitives.program import Instr, Program


def append_horner(coeffs: list, consts: list, instrs: list, monic: bool = False, rnd=None) -> str:
    """Append Horner's scheme for sum coeffs[k] x^k (with an implied leading 1
    if monic) to consts/instrs; return the reference of its value.  ``rnd``
    rounds each coefficient as it is stored (default: as given)."""
    def const(v):
        consts.append(v if rnd is None else rnd(v))
        return f"c{len(consts) - 1}"

    if monic:
        acc, rest = "x", coeffs
    else:
        acc, rest = const(coeffs[-1]), coeffs[:-1]
    for k, c in enumerate(reversed(rest)):
        if not (monic and k == 0):
            instrs.append(Instr("mul", (acc, "x")))
            acc = f"v{len(instrs) - 1}"
        instrs.append(Instr("add", (acc, const(c))))
        acc = f"v{len(instrs) - 1}"
    return acc


def _strip(coeffs) -> list:
    c = list(coeffs)
    while len(c) > 1 and c[-1] == 0:
        c.pop()
    return c


def horner_program(num, den=None, fmt: Format | str = "real") -> Program:
    """Program for sum num[k] x^k (/ sum den[k] x^k if den), coefficients rounded to fmt."""
    fmt = FORMATS[fmt] if isinstance(fmt, str) else fmt
    rnd = float if fmt.is_real else (lambda v: float(fmt.op_format.round(np.float64(float(v)))))
    dn = _strip(den if den is not None else [1])
    with mpmath.workdps(50):
        lead = mpmath.mpf(dn[-1])
        p = [rnd(mpmath.mpf(c) / lead) for c in _strip(num)]
        q = [rnd(mpmath.mpf(c) / lead) for c in dn[:-1]]
    consts: list = []
    instrs: list = []
    out = append_horner(p, consts, instrs)
    if q:
        instrs.append(Instr("div", (out, append_horner(q, consts, instrs, monic=True))))
        out = f"v{len(instrs) - 1}"
    return Program(tuple(consts), tuple(instrs), out)
