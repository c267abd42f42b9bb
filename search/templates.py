"""Reduction templates: classical range-reduction kernels a search may start from.

A template is a straight-line program that reduces the argument, evaluates
a polynomial kernel on the reduced interval and undoes the reduction, for
the whole domain of a format (``target.interval: whole``); the search
(``search.init: template``) sows it at every polynomial degree that fits
``max_ops`` and may keep, change or throw away any part of it.  Polynomial
coefficients start at the Taylor values (at the middle of the reduced
interval); the fitter refines them.

- ``exp``: x clamped to [ln 2^(emin-p-1), (emax + 1.25) ln 2] (so the ends
  saturate to 0 and inf, and k stays within emax + 1), k = rint(x / ln 2), r = x - k ln2hi - k ln2lo (two fmas,
  Cody-Waite: ln2hi has 16 significant bits), e^r by Horner in fma,
  ldexp(e^r, k).
- ``exp_pow2``: k = rint(x / ln 2 - 1/2) (floor, but for ties), r = x - k ln 2
  in [0, ln 2] (hi and lo), the kernel in [1, 2], times pow2(k): a single
  power of two (k spans emax - emin + 1 values, each a normal power), which
  the fast export builds from exponent bits in two instructions; cheaper
  than ldexp, less accurate (r reaches ln 2).
- ``exp2``: the same as ``exp`` with k = rint(x), r = x - k (exact), 2^r by Horner.
- ``tanh``: two pieces joined by ``select`` on cut - |x|, the sign put
  back last by ``copysign``.  Below the cut: a + (a t) N(t) / (t + q0), t = a^2,
  N of the given degree (a rational fit with its own division; the correction is
  at most 18.5% of the result, so its rounding errors stay well under an ulp); the
  cut is the largest where it meets 2^-(p+2.5) and that share (``tanh_cut``;
  float32, degree 1: 0.69).  Above: (D - 2) / D, D = e^2a + 1, with 2a = k ln 2 + 2r (Cody-Waite: ln 2 / 2
  in hi and lo, or as one value of the format where that is close enough, as
  in float32: ``_one_constant_ok``), e^2r = 1 + r W(r), W by Estrin's scheme
  (``_estrin``) of the least degree that meets 2^-(p+3) (``tanh_w_degree``;
  float32: 5), computed divided through by 2^k: V = D 2^-k = r W + (1 + 2^-k) in
  one fma and (V - 2^(1-k)) / V, so that neither e^2a nor r W is rounded on its
  own and no 2^k r is formed; V - 2^(1-k) is exact while D < 2^(p+1), so a is
  clamped below (p + 1) ln 2 / 2 (float32: at 8.563, past which every result
  rounds to 1 - 2^-24 until 13 ln 2), and from (p + 2) ln 2 / 2 on, where tanh
  rounds to 1, the numerator V is selected for V - 2^(1-k).  ``tanh_program`` builds
  the variants ``benchmarks/tanh_variants.py`` measures (a polynomial small piece,
  D scaled up, 1 - 2 / D, other schemes).  Coefficients start at least-squares fits
  (float64 tanh and exp on Chebyshev nodes), not at Taylor values: the Taylor series
  of tanh converges slowly near the cut.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

from ..primitives.formats import Format
from ..primitives.program import Program, parse_program
from ..primitives.registry import Registry


@dataclass(frozen=True)
class Template:
    name: str
    functions: tuple[str, ...]       # target names it applies to
    ops: tuple[str, ...]             # ops its programs use
    build: Callable[[Format, int], Program]   # (format, polynomial degree) -> program
    doc: str
    saturates: bool = True           # beyond the domain: inf above, 0 below (False: the value at the nearest end)


TEMPLATES: Registry[Template] = Registry("reduction template")


def _hex(v: float) -> str:
    return float(v).hex()


def _rnd(fmt: Format, v: float) -> float:
    """v rounded to the format its instructions compute in."""
    return float(fmt.op_format.round([v])[0])


def _horner(r: str, coeffs: list[float], first_c: int, first_v: int) -> tuple[list[str], list[str], str]:
    """Constant and instruction lines of sum coeffs[i] r^i by Horner in fma."""
    n = len(coeffs) - 1
    consts = [f"c{first_c + i} = {_hex(coeffs[n - i])}" for i in range(n + 1)]
    lines, acc, v = [], f"c{first_c}", first_v
    for i in range(1, n + 1):
        lines.append(f"v{v} = fma({acc}, {r}, c{first_c + i})")
        acc, v = f"v{v}", v + 1
    return consts, lines, acc


def _estrin(r: str, coeffs: list[float], first_c: int, first_v: int) -> tuple[list[str], list[str], str]:
    """Constant and instruction lines of sum coeffs[i] r^i by Estrin's scheme: pairs
    c[2i] + c[2i+1] r (one fma each, independent), then Horner in r^2 over the pairs.  One
    op more than Horner (r^2), about half its dependent chain (the compiled code's speed
    follows the chain: the out-of-order window holds fewer results while they wait)."""
    n = len(coeffs) - 1
    if n < 3:
        return _horner(r, coeffs, first_c, first_v)
    consts = [f"c{first_c + i} = {_hex(c)}" for i, c in enumerate(coeffs)]
    lines, v = [f"v{first_v} = mul({r}, {r})"], first_v + 1
    r2, pairs = f"v{first_v}", []
    for i in range(0, n + 1, 2):
        if i + 1 <= n:
            lines.append(f"v{v} = fma(c{first_c + i + 1}, {r}, c{first_c + i})")
            pairs.append(f"v{v}")
            v += 1
        else:
            pairs.append(f"c{first_c + i}")
    acc = pairs[-1]
    for p in pairs[-2::-1]:
        lines.append(f"v{v} = fma({acc}, {r2}, {p})")
        acc, v = f"v{v}", v + 1
    return consts, lines, acc


def _clamps(fmt: Format, lo: float, hi: float) -> tuple[list[str], list[str]]:
    return ([f"c0 = {_hex(_rnd(fmt, hi))}", f"c1 = {_hex(_rnd(fmt, lo))}"], ["v0 = min(x, c0)", "v1 = max(v0, c1)"])


def _exp(fmt: Format, degree: int) -> Program:
    p = fmt.precision
    rnd = lambda v: _rnd(fmt, v)
    ln2hi = math.ldexp(round(math.ldexp(math.log(2), 16)), -16)       # 16 bits: k * ln2hi exact for |k| < 2^8
    ln2lo = rnd(math.log(2) - ln2hi)
    emax = math.frexp(fmt.max_finite)[1] - 1
    # past hi = (emax + 1.25) ln 2 (> ln max), inf; below ln 2^(emin-p-1), 0; k stays within emax + 1
    cs, lines = _clamps(fmt, math.log(2.0 ** (fmt.emin - p - 1)), (emax + 1.25) * math.log(2))
    cs += [f"c2 = {_hex(rnd(1 / math.log(2)))}", f"c3 = {_hex(-ln2hi)}", f"c4 = {_hex(-ln2lo)}"]
    lines += ["v2 = mul(v1, c2)", "v3 = rint(v2)", "v4 = fma(v3, c3, v1)", "v5 = fma(v3, c4, v4)"]
    pc, pl, out = _horner("v5", [rnd(1 / math.factorial(i)) for i in range(degree + 1)], 5, 6)
    v = 6 + len(pl)
    return parse_program("\n".join(cs + pc + lines + pl + [f"v{v} = ldexp({out}, v3)", f"return v{v}"]))


def _exp_fast(fmt: Format, degree: int) -> Program:
    """``_exp`` clamped to the domain's ends instead (ln of the smallest normal and of the
    largest finite, rounded inwards): every result normal, so the fast export scales by an
    integer add to the exponent field; outside the domain it returns the value at the end."""
    prog = _exp(fmt, degree)
    op = fmt.op_format
    lo = float(op.round([math.log(2.0 ** fmt.emin)])[0])
    hi = float(op.round([math.log(fmt.max_finite)])[0])
    while math.exp(lo) < 2.0 ** fmt.emin:
        lo = float(op.round([lo * (1 - 2.0 ** (1 - op.precision))])[0])
    while math.exp(hi) > fmt.max_finite:
        hi = float(op.round([hi * (1 - 2.0 ** (1 - op.precision))])[0])
    return prog.with_consts((hi, lo) + tuple(prog.consts[2:]))


def _taylor_at(m: float, degree: int, scale: float = 1.0) -> list[float]:
    """Monomial coefficients (r^0 first) of the Taylor polynomial of scale * e^r at r = m."""
    from numpy.polynomial import Polynomial as P
    p = sum((P([-m, 1.0]) ** i * (scale * math.exp(m) / math.factorial(i)) for i in range(degree + 1)), P([0.0]))
    return [float(c) for c in p.coef]


def _exp_pow2(fmt: Format, degree: int, centred: bool = False) -> Program:
    p = fmt.precision
    rnd = lambda v: _rnd(fmt, v)
    ln2hi = math.ldexp(round(math.ldexp(math.log(2), 16)), -16)
    ln2lo = rnd(math.log(2) - ln2hi)
    emax = math.frexp(fmt.max_finite)[1] - 1
    # past hi = (emax + 1.25) ln 2, k = emax + 1 and 2^k = inf; below lo = ln 2^(emin-p-1), 0
    cs, lines = _clamps(fmt, math.log(2.0 ** (fmt.emin - p - 1)), (emax + 1.25) * math.log(2))
    cs += [f"c2 = {_hex(rnd(1 / math.log(2)))}", f"c3 = {_hex(-0.5)}", f"c4 = {_hex(-ln2hi)}", f"c5 = {_hex(-ln2lo)}"]
    lines += ["v2 = fma(v1, c2, c3)", "v3 = rint(v2)", "v4 = fma(v3, c4, v1)"]
    if centred:   # u = r - m, m = ln 2 / 2: w = k ln2lo + m (one rounding), u = (x - k ln2hi) - w
        m = rnd(math.log(2) / 2)
        cs[-1] = f"c5 = {_hex(ln2lo)}"
        cs.append(f"c6 = {_hex(m)}")
        lines += ["v5 = fma(v3, c5, c6)", "v6 = sub(v4, v5)"]
        coeffs, first_c, r, first_v = _taylor_at(0.0, degree, math.exp(m)), 7, "v6", 7
    else:
        lines += ["v5 = fma(v3, c5, v4)"]
        coeffs, first_c, r, first_v = _taylor_at(math.log(2) / 2, degree), 6, "v5", 6
    pc, pl, out = _horner(r, [rnd(c) for c in coeffs], first_c, first_v)
    v = first_v + len(pl)
    return parse_program("\n".join(cs + pc + lines + pl + [f"v{v} = pow2(v3)", f"v{v + 1} = mul({out}, v{v})",
                                                            f"return v{v + 1}"]))


def _exp2(fmt: Format, degree: int) -> Program:
    p = fmt.precision
    rnd = lambda v: _rnd(fmt, v)
    cs, lines = _clamps(fmt, float(fmt.emin - p - 1), math.log2(fmt.max_finite) + 1)
    lines += ["v2 = rint(v1)", "v3 = sub(v1, v2)"]
    pc, pl, out = _horner("v3", [rnd(math.log(2) ** i / math.factorial(i)) for i in range(degree + 1)], 2, 4)
    v = 4 + len(pl)
    return parse_program("\n".join(cs + pc + lines + pl + [f"v{v} = ldexp({out}, v2)", f"return v{v}"]))


def _lsq(f, w, lo: float, hi: float, degree: int) -> list[float]:
    """Monomial coefficients (u^0 first) of the degree-``degree`` polynomial P
    minimising sum (w (P(u) - f(u)))^2 over 400 Chebyshev nodes of [lo, hi]."""
    import numpy as np
    u = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(400) + 0.5) / 400)
    v = np.vander(u, degree + 1, increasing=True) * w(u)[:, None]
    return [float(c) for c in np.linalg.lstsq(v, f(u) * w(u), rcond=None)[0]]


def _one_constant_ok(one: float, half: float, cut: float, cap: float, precision: int) -> bool:
    """Whether the tanh template's reduction 2a = k ln 2 + 2r may take ln 2 / 2 as one value of
    the format (``one``, one fma) rather than hi and lo: for every k it meets (a in [cut, cap]),
    the error k |one - ln 2 / 2| puts in r moves the result 1 - 2 / (e^2a + 1) by about
    4 k |one - ln 2 / 2| e^-2a, which must stay under 1/16 of an ulp of a result near 1
    (2^-precision).  Holds in float32 (the nearest value is 9.5e-10 off, k <= 26), not in
    bfloat16 or float16."""
    d = abs(one - half)
    return all(4 * k * d * math.exp(-2 * max(cut, (k - 0.5) * half)) <= 2.0 ** -precision / 16
               for k in range(round(cut / half), round(cap / half) + 1))


def _tanh_p(cut: float, degree: int) -> list[float]:
    """P below the cut (tanh(a) = a + a t P(t), t = a^2), least squares weighted by the error P
    adds relative to tanh(a); u^0 first."""
    import numpy as np
    ts = lambda t: np.sqrt(np.maximum(t, 1e-300))
    return _lsq(lambda t: (np.tanh(ts(t)) / ts(t) - 1) / t, lambda t: ts(t) * t / np.tanh(ts(t)),
                1e-6, cut * cut, degree)


def _tanh_w(degree: int) -> list[float]:
    """W above the cut (e^2r = 1 + r W(r), |r| <= ln 2 / 4), least squares, relative; u^0 first."""
    import numpy as np
    half = math.log(2) / 2
    return _lsq(lambda r: np.expm1(2 * r) / np.where(r == 0, 1.0, r), lambda r: np.abs(r) / np.exp(2 * r),
                -half / 2, half / 2, degree)


def _rel_err(f, coeffs: list[float], lo: float, hi: float) -> float:
    import numpy as np
    u = np.linspace(lo, hi, 2001)
    return float(np.max(np.abs(f(u, np.polyval(coeffs[::-1], u)))))


def _tanh_r(cut: float, degree: int) -> tuple[list[float], float]:
    """The rational small piece: tanh(a) = a + (a t) N(t) / (t + q0), t = a^2, N of ``degree``:
    (N's coefficients, u^0 first; q0), fitted on [0, cut^2] by linearised least squares (N - Z q0 =
    Z t for Z = (tanh(a) / a - 1) / t; five Sanathanan-Koerner passes, each weighted by the error
    the fit adds relative to tanh(a) over the last denominator, then Lawson passes toward the
    minimax)."""
    import numpy as np
    lo, hi = 1e-6, cut * cut
    t = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(400) + 0.5) / 400)
    a = np.sqrt(t)
    z = (np.tanh(a) / a - 1) / t
    w = a * t / np.tanh(a)
    m = np.hstack([np.vander(t, degree + 1, increasing=True), -z[:, None]])
    den, law, best = np.ones_like(t), np.ones_like(t), None
    for i in range(40):
        ww = w * law / np.abs(den)
        sol = np.linalg.lstsq(m * ww[:, None], z * t * ww, rcond=None)[0]
        den = t + sol[-1]
        err = np.abs((np.polyval(sol[-2::-1], t) / den - z) * w)
        if best is None or err.max() < best[0]:
            best = (err.max(), sol)
        if i >= 5:
            law = law * (err / err.max()) ** 0.5 + 1e-6
    return [float(c) for c in best[1][:-1]], float(best[1][-1])


def _tanh_small_err(cut: float, degree: int, small: str) -> float:
    """Max error, relative to tanh, of the small piece of ``small`` form (float64) on [0, cut]."""
    import numpy as np
    t = np.linspace(1e-6, cut * cut, 2001)
    a = np.sqrt(t)
    if small == "rat":
        nc, q0 = _tanh_r(cut, degree)
        corr = np.polyval(nc[::-1], t) / (t + q0)
    else:
        corr = np.polyval(_tanh_p(cut, degree)[::-1], t)
    return float(np.max(np.abs((a + a * t * corr) / np.tanh(a) - 1)))


@functools.lru_cache(maxsize=None)
def tanh_cut(precision: int, degree: int, small: str = "poly") -> float:
    """The largest cut (0.30 to 0.95, by 0.01) below which the small piece of ``degree`` is within
    2^-(precision + 2) of tanh relatively, for ``small = "poly"`` (float32, degree 4: 0.69;
    degree 6: 0.95); for ``"rat"``, within 2^-(precision + 2.5), and no further than where the
    correction a - tanh(a) is 18.5% of tanh(a) (0.75), as the three roundings of its quotient
    pass into the result in that share (float32, degree 1: 0.69; degree 2: 0.75, where the
    approximation alone would allow 0.95 and the result is 1.08 ulp off; float16 and bfloat16:
    0.75, below which the large piece is nearly 1 ulp off in float16)."""
    import numpy as np
    bound = 2.0 ** -(precision + (2.5 if small == "rat" else 2))
    best = 0.3
    for c in np.arange(0.30, 0.955, 0.01):
        share = (c - math.tanh(c)) / math.tanh(c)
        if _tanh_small_err(float(c), degree, small) <= bound and (small != "rat" or share <= 0.185):
            best = float(round(c, 2))
    return best


def tanh_w_degree(precision: int) -> int:
    """The least degree of W whose e^2r is within 2^-(precision + 3) relatively (float32: 5)."""
    import numpy as np
    half = math.log(2) / 2
    for w in range(1, 12):
        if _rel_err(lambda r, p: (1 + r * p) / np.exp(2 * r) - 1, _tanh_w(w), -half / 2, half / 2) \
                <= 2.0 ** -(precision + 3):
            return w
    return 12


def tanh_program(fmt: Format, degree: int, *, small: str = "rat", down: bool = True,
                 w_degree: int | None = None, cut: float | None = None, w_scheme: str = "estrin",
                 p_scheme: str = "horner", scaled: bool = True, form: str = "quot", top: bool = True) -> Program:
    """The ``tanh`` template and its variants (``benchmarks/tanh_variants.py`` measures them).

    Below ``cut`` (default ``tanh_cut``) the small piece: ``small = "rat"``, a + (a t) N(t) / (t + q0),
    N of ``degree`` (its own division; the correction is at most 18.5% of the result, so the
    rounding of N, t + q0 and the quotient moves it by well under an ulp), or ``"poly"``, a + (a t) P(t), P of
    ``degree`` by ``p_scheme``.  Above it, W of ``w_degree`` (default ``tanh_w_degree``) by
    ``w_scheme`` (``"horner"`` or ``"estrin"``) and the large piece ``form``: ``"quot"``,
    (D - 2) / D (D - 2 is exact while D < 2^(p+1), p the precision: no rounding of 2 / D, which
    ``"sub"``, 1 - 2 / D, has).  ``down`` (quot only): D divided through by 2^k, V = D 2^-k =
    e^2r + 2^-k = r W + (1 + 2^-k) in one fma and (V - 2^(1-k)) / V, the same quotient as
    (D - 2) / D (scaling by 2^-k is exact) without the product 2^k r: -k = rint(-2a / ln 2),
    2^(1-k) = pow2(-k + 1), which the fast export shifts out of the rint's bits; else D =
    (2^k r) W + (2^k + 1), or with ``scaled`` off 2^k (r W) + (2^k + 1) (r W rounded once
    more).  ``top``: a clamped below (p + 1) ln 2 / 2 (D < 2^(p+1)) where
    every larger a rounds to 1 - 2^-p as the clamped result does, and 1 from (p + 2) ln 2 / 2
    on, where tanh rounds to 1: "quot" selects the numerator D (V) for D - 2 (V - 2^(1-k)), so
    the quotient is 1 (the fast export: a masked subtraction, no blend), "sub" selects the result
    1 (two ops; without them, "quot" clamps at 9.1 and D - 2 is a tie where D passes 2^(p+1):
    1.25 ulp in float32).  ``"sub"`` without ``top`` clamps at 9.1 (past it tanh rounds
    to 1 in float32)."""
    if down and form != "quot":
        raise ValueError("tanh_program: down needs form 'quot'")
    rnd = lambda v: _rnd(fmt, v)
    p = fmt.precision
    w_degree = tanh_w_degree(p) if w_degree is None else w_degree
    cut = tanh_cut(p, degree, small) if cut is None else cut
    ln2 = math.log(2)
    half = ln2 / 2
    # with top: a clamp where D < 2^(p+1) (D - 2 exact) and 1 - tanh < 1.5 2^-p (every a past it
    # rounds to 1 - 2^-p, as the clamped result does): the middle of that range (float32: 8.563,
    # in [8.462, 8.664]), so that the fitter's small moves of it change nothing
    cap = rnd((math.log(2.0 ** (p + 1) - 1) + p * ln2 - math.log(0.75)) / 4) if top else 9.1
    lhi = math.ldexp(round(math.ldexp(half, 16)), -16)                  # k * lhi exact for k < 2^7
    wc = _tanh_w(w_degree)
    one = _one_constant_ok(rnd(half), half, cut, cap, p)
    scheme = {"horner": _horner, "estrin": _estrin}
    sg = 1.0 if down else -1.0            # down: the reduction's k is -k, r = a + (-k) ln 2 / 2
    cs = [f"c0 = {_hex(rnd(cut))}", f"c1 = {_hex(rnd(cap))}", f"c2 = {_hex(-sg * rnd(1 / half))}",
          f"c3 = {_hex(sg * (rnd(half) if one else lhi))}",
          f"c4 = {_hex(0.0 if one else sg * rnd(half - lhi))}",
          f"c5 = {_hex(1.0)}", f"c6 = {_hex(0.5 if down else 2.0)}", f"c7 = {_hex(rnd((p + 2) * half))}"]
    lines = ["v0 = abs(x)", "v1 = sub(c0, v0)", "v2 = mul(v0, v0)"]
    if small == "rat":
        nc, q0 = _tanh_r(cut, degree)
        ppc, ppl, pout = _horner("v2", [rnd(c) for c in nc], 9, 3)
        ppc.insert(0, f"c8 = {_hex(rnd(q0))}")
        v = 3 + len(ppl)
        ppl += [f"v{v} = add(v2, c8)", f"v{v + 1} = div({pout}, v{v})"]
        pout, v = f"v{v + 1}", v + 2
        first_w = 10 + degree
    else:
        ppc, ppl, pout = scheme[p_scheme]("v2", [rnd(c) for c in _tanh_p(cut, degree)], 8, 3)
        v = 3 + len(ppl)
        first_w = 8 + len(ppc)
    lines += ppl + [f"v{v} = mul(v0, v2)", f"v{v + 1} = fma(v{v}, {pout}, v0)"]
    small_out, v = f"v{v + 1}", v + 2
    lines += [f"v{v} = min(v0, c1)", f"v{v + 1} = mul(v{v}, c2)", f"v{v + 2} = rint(v{v + 1})",
              f"v{v + 3} = fma(v{v + 2}, c3, v{v})"] + ([] if one else [f"v{v + 4} = fma(v{v + 2}, c4, v{v + 3})"])
    k, r, v = f"v{v + 2}", f"v{v + 3}" if one else f"v{v + 4}", v + (4 if one else 5)
    wpc, wpl, wout = scheme[w_scheme](r, [rnd(c) for c in wc], first_w, v)
    v += len(wpl)
    lines += wpl
    if down:
        # g = 2^(1-k) = pow2(-k + 1) (the fast export shifts it out of the rint's bits, the + 1 in
        # the shift constant), V = r W + (1 + g / 2), V - g exact
        lines += [f"v{v} = add({k}, c5)", f"v{v + 1} = pow2(v{v})", f"v{v + 2} = fma(v{v + 1}, c6, c5)",
                  f"v{v + 3} = fma({r}, {wout}, v{v + 2})", f"v{v + 4} = sub(v{v + 3}, v{v + 1})"]
        d, num, v = f"v{v + 3}", f"v{v + 4}", v + 5
    else:
        # D = (2^k r) W + (2^k + 1), or unscaled 2^k (r W) + (2^k + 1)
        mul, fma = ((f"v{v}, {r}", f"v{v + 1}, {wout}") if scaled else (f"{r}, {wout}", f"v{v}, v{v + 1}"))
        lines += [f"v{v} = pow2({k})", f"v{v + 1} = mul({mul})", f"v{v + 2} = add(v{v}, c5)",
                  f"v{v + 3} = fma({fma}, v{v + 2})"] + ([f"v{v + 4} = sub(v{v + 3}, c6)"] if form == "quot" else [])
        d, num, v = f"v{v + 3}", f"v{v + 4}", v + (5 if form == "quot" else 4)
    if form == "quot":
        if top:   # the numerator D (V) for D - 2 (V - g): the quotient is 1
            lines += [f"v{v} = sub(v0, c7)", f"v{v + 1} = select(v{v}, {num}, {d})"]
            num, v = f"v{v + 1}", v + 2
        lines += [f"v{v} = div({num}, {d})"]
        large, v = f"v{v}", v + 1
    else:
        lines += [f"v{v} = div(c6, {d})", f"v{v + 1} = sub(c5, v{v})"]
        large, v = f"v{v + 1}", v + 2
        if top:
            lines += [f"v{v} = sub(v0, c7)", f"v{v + 1} = select(v{v}, {large}, c5)"]
            large, v = f"v{v + 1}", v + 2
    # the join on cut - a (not a - cut): a NaN compare picks the small piece, whose value is NaN
    # (the large one's is 1 with top), in the interpreter and in the fast export (a compare,
    # false for NaN) alike; of the two orders of this select and the top one that keep NaN,
    # this one compiled to the faster loop (the template of commit 33345e3: 0.74 against 0.70
    # times jnp.tanh)
    lines += [f"v{v} = select(v1, {large}, {small_out})", f"v{v + 1} = copysign(v{v}, x)", f"return v{v + 1}"]
    return parse_program("\n".join(cs + ppc + wpc + lines)).simplify()   # unused constants go


def _tanh(fmt: Format, degree: int) -> Program:
    return tanh_program(fmt, degree)


TEMPLATES.register("exp", Template("exp", ("exp",), ("min", "max", "mul", "rint", "fma", "ldexp"), _exp,
                                   "Cody-Waite reduction by ln 2 (hi and lo), Horner kernel, ldexp"))
TEMPLATES.register("exp_fast", Template("exp_fast", ("exp",), ("min", "max", "mul", "rint", "fma", "ldexp"),
                                        _exp_fast, "as exp, clamped to the domain's ends (the result at the "
                                        "nearest end outside): every result normal, so the fast export "
                                        "scales by adding k to the exponent field", saturates=False))
TEMPLATES.register("exp_pow2", Template("exp_pow2", ("exp",), ("min", "max", "fma", "rint", "pow2", "mul"),
                                        _exp_pow2, "k = rint(x / ln 2 - 1/2), r = x - k ln 2 in [0, ln 2] (hi "
                                        "and lo), Horner kernel, times pow2(k): one factor, built from "
                                        "exponent bits in the fast export"))
TEMPLATES.register("exp_pow2c", Template("exp_pow2c", ("exp",), ("min", "max", "fma", "rint", "sub", "pow2", "mul"),
                                         lambda fmt, degree: _exp_pow2(fmt, degree, centred=True),
                                         "as exp_pow2, the kernel's argument centred: u = r - ln 2 / 2 "
                                         "(one op more, half the rounding error of r)"))
TEMPLATES.register("tanh", Template("tanh", ("tanh",), ("abs", "sub", "mul", "fma", "min", "rint", "add", "div",
                                                        "pow2", "select", "copysign"), _tanh,
                                    "a + (a t) N(t) / (t + q0), t = a^2, below a cut, (V - 2^(1-k)) / V, V = "
                                    "(e^2a + 1) 2^-k = r W(r) + 1 + 2^-k in one fma, above (Cody-Waite "
                                    "reduction), joined by select, the numerator V where tanh rounds to 1, "
                                    "sign by copysign",
                                    saturates=False))
TEMPLATES.register("exp2", Template("exp2", ("exp2",), ("min", "max", "rint", "sub", "fma", "ldexp"), _exp2,
                                    "reduction by rint(x), Horner kernel, ldexp"))


def template_programs(task, max_ops: int) -> tuple[Program, ...]:
    """Every template for the task's target, at every degree whose program has
    at most ``max_ops`` ops (cheapest first); () if none applies."""
    fmt = task.fmt.hardware
    out = []
    for t in TEMPLATES.names():
        tpl = TEMPLATES[t]
        if task.target.strip() not in tpl.functions:
            continue
        for degree in range(1, 16):
            prog = tpl.build(fmt, degree)
            if prog.ops > max_ops:
                break
            out.append(prog)
    return tuple(out)
