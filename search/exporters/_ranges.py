"""What the fast exporter may assume about a program's values: an interval
that holds each value for every input, and whether it is integer-valued
(interval arithmetic over the instructions, NaN left aside: a NaN input
gives NaN through the clamps ``min``/``max`` and whatever the rest computes;
``select(s, a, b)`` holds a's range or b's where s's range is below 0 or at
least 0, else their union, a NaN s, which gives b, being left aside too).

Used to drop work a fast form does only for arguments that cannot occur: the
JAX ``pow2`` builds 2^k from exponent bits in two integer instructions where
k is proved integer-valued and within the format's exponent range, and adds
trunc and a clamp only where it is not; ``ldexp`` adds k to the exponent
field where ``provably`` shows, case by case over sub-intervals of x, that
its argument and its result are normal for every input
(``exponent_add_ok``), or adds and clamps the bits where it shows that the
sum cannot wrap (``exponent_sat_ok``).

Soundness: each bound is computed in float64 and pushed outwards, by a
relative 2^-20 (enough for any rounding of float32 or narrower and float64)
or, given the carrier the code computes in, by 2^-50 and then to the
carrier's next value outwards (rounding to nearest is monotone, so the
rounded result of an op lies between the carrier values just outside its
exact bounds: tight enough to see that t = x c + 1.5 2^23 is an integer in
float32).  In a carrier of p significant bits every value of magnitude at
least 2^(p-1) is an integer.
"""
from __future__ import annotations

import math

import numpy as np

_WIDEN = 2.0 ** -20   # relative push-out of every bound without a carrier
_INF = math.inf
_PREC = {"float32": 24, "float64": 53}
_DT = {"float32": np.float32, "float64": np.float64}
_FINITE = {"float32": (2.0 ** -126, float(np.finfo(np.float32).max)),
           "float64": (2.0 ** -1022, float(np.finfo(np.float64).max))}   # smallest normal, largest finite


def _push(v: float, side: int, carrier: str | None) -> float:
    """A bound v pushed outwards (side -1: down, +1: up) past the computing
    error of v, then rounded to nearest in the carrier (monotone, so the
    carrier's rounding of any value beyond the pushed bound stays beyond it)."""
    if carrier is None:
        return v + side * abs(v) * _WIDEN
    v += side * abs(v) * 2.0 ** -50
    with np.errstate(over="ignore"):
        return float(_DT[carrier](v))


def _out(lo: float, hi: float, carrier: str | None) -> tuple[float, float]:
    if math.isnan(lo) or math.isnan(hi):
        return -_INF, _INF
    return _push(lo, -1, carrier), _push(hi, 1, carrier)


def _mul(a, b, carrier):
    ps = [x * y for x in a for y in b]      # Python floats: inf * 0 is nan, never an exception
    return (-_INF, _INF) if any(math.isnan(p) for p in ps) else _out(min(ps), max(ps), carrier)


def _step(op: str, args: list[tuple[float, float, bool]], carrier: str | None) -> tuple[float, float, bool]:
    iv = [(lo, hi) for lo, hi, _ in args]
    ints = [i for _, _, i in args]
    if op in ("min", "max"):
        f = min if op == "min" else max
        return f(iv[0][0], iv[1][0]), f(iv[0][1], iv[1][1]), all(ints)
    if op == "select":   # a where s < 0, else b: one of them where s's range decides (s = -0 gives b)
        (slo, shi), a, b = iv[0], args[1], args[2]
        if shi < 0:
            return a
        if slo >= 0:
            return b
        return min(a[0], b[0]), max(a[1], b[1]), a[2] and b[2]
    if op == "add":
        return (*_out(iv[0][0] + iv[1][0], iv[0][1] + iv[1][1], carrier), all(ints))
    if op == "sub":
        return (*_out(iv[0][0] - iv[1][1], iv[0][1] - iv[1][0], carrier), all(ints))
    if op == "neg":
        return -iv[0][1], -iv[0][0], ints[0]
    if op == "mul":   # the bounds cover the exact product too: a compiler may fuse it into the next add
        lo, hi = _mul(iv[0], iv[1], carrier)
        if carrier is not None and math.isfinite(lo) and math.isfinite(hi):
            p = [x * y for x in iv[0] for y in iv[1]]
            lo, hi = min(lo, min(p) - abs(min(p)) * 2.0 ** -50), max(hi, max(p) + abs(max(p)) * 2.0 ** -50)
        return lo, hi, all(ints)
    if op == "fma":
        p = [x * y for x in iv[0] for y in iv[1]]
        if any(math.isnan(v) for v in p):
            return -_INF, _INF, False
        # one rounding, or two where the compiler does not contract: the product's bounds cover both
        plo, phi = min(p), max(p)
        if carrier is not None:
            plo, phi = min(plo, _push(plo, -1, carrier)), max(phi, _push(phi, 1, carrier))
        return (*_out(plo + iv[2][0], phi + iv[2][1], carrier), all(ints))
    if op == "rint":
        lo, hi = iv[0]
        return float(np.rint(lo)), float(np.rint(hi)), True
    if op == "abs":
        lo, hi = iv[0]
        return (0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi)), ints[0]
    if op == "pow2":
        lo, hi = iv[0]
        return 0.0, (2.0 ** min(math.trunc(hi), 1100) if math.isfinite(hi) else _INF), False
    if op == "ldexp":
        (klo, khi), kint = iv[1], ints[1]
        if not (kint and math.isfinite(klo) and math.isfinite(khi)):
            return -_INF, _INF, False
        s = (2.0 ** max(min(klo, 1100), -1100), 2.0 ** max(min(khi, 1100), -1100))
        return (*_mul(iv[0], s, carrier), False)
    return -_INF, _INF, False


def _integer(lo: float, hi: float, integer: bool, carrier: str | None) -> bool:
    big = 2.0 ** (_PREC[carrier] - 1) if carrier else _INF
    return integer or lo >= big or hi <= -big


def value_ranges(program, x: tuple[float, float] = (-_INF, _INF), carrier: str | None = None,
                 fixed: dict | None = None) -> dict[str, tuple[float, float, bool]]:
    """ref ('x', 'c0', 'v3', ...) -> (lo, hi, integer-valued) for every input
    in ``x``; ``carrier``: the format the code computes in (tighter bounds,
    see the module docstring), None: any format.  ``fixed``: {ref: value}
    taken as that instruction's value (a case of a case split)."""
    out: dict[str, tuple[float, float, bool]] = {"x": (float(x[0]), float(x[1]), False)}
    for i, c in enumerate(program.consts):
        c = float(c)
        out[f"c{i}"] = (c, c, math.isfinite(c) and c == math.trunc(c))
    for k, ins in enumerate(program.instrs):
        lo, hi, integer = _step(ins.op, [out[a] for a in ins.args], carrier)
        integer = _integer(lo, hi, integer, carrier)
        if integer:
            lo, hi = math.ceil(lo) if math.isfinite(lo) else lo, math.floor(hi) if math.isfinite(hi) else hi
        out[f"v{k}"] = (float(lo), float(hi), integer)
        if fixed and f"v{k}" in fixed:
            v = fixed[f"v{k}"]
            out[f"v{k}"] = (v, v, True) if lo <= v <= hi else (math.nan, math.nan, True)   # nan: case impossible
    return out


def _halves(lo: float, hi: float):
    """[lo, hi] cut in two at its middle value in float64 order (0 where it
    spans 0), or None where it holds one value."""
    if lo < 0.0 < hi:
        return (lo, 0.0), (0.0, hi)
    if lo >= 0.0:
        a, b = (min(v + 0.0, 1.7976931348623157e308) for v in (lo, hi))   # + 0.0: -0 -> +0
        oa, ob = (int(np.float64(v).view(np.int64)) for v in (a, b))
        if ob - oa < 2:
            return None
        m = float(np.int64((oa + ob) // 2).view(np.float64))
        return (lo, m), (m, hi)
    h = _halves(-hi, -lo)
    return None if h is None else ((-h[1][1], -h[1][0]), (-h[0][1], -h[0][0]))


def provably(program, test, x: tuple[float, float] = (-_INF, _INF), carrier: str | None = None,
             split_on: str | None = None, max_boxes: int = 5_000) -> bool:
    """Whether ``test(ranges)`` holds for every input in ``x``: ranges are
    ``value_ranges`` over a box of inputs; ``test`` answers True (holds on the
    box), False (refuted: stop) or None (undecided: split).  A box is split in
    two halves of x, or, where instruction ``split_on`` is integer-valued
    with at most 4 values on the box, into one case per value (which keeps
    what the interval arithmetic forgets: the value it had).  False also when
    more than ``max_boxes`` boxes would be needed or a box can be split no
    further."""
    stack, boxes = [((float(x[0]), float(x[1])), None)], 0
    while stack:
        box, fixed = stack.pop()
        boxes += 1
        if boxes > max_boxes:
            return False
        r = value_ranges(program, box, carrier, fixed)
        if split_on and fixed and math.isnan(r[split_on][0]):
            continue                                      # this case cannot occur on the box
        verdict = test(r)
        if verdict is True:
            continue
        if verdict is False:
            return False
        if split_on and not fixed:
            lo, hi, integer = r[split_on]
            if integer and math.isfinite(lo) and math.isfinite(hi) and 1 <= hi - lo <= 3:
                stack.extend((box, {split_on: float(v)}) for v in range(int(lo), int(hi) + 1))
                continue
        halves = _halves(*box)
        if halves is None:
            return False
        stack.extend((h, fixed) for h in halves)
    return True


def _ldexp_provably(program, k: int, carrier: str, x: tuple[float, float], holds) -> bool:
    """``provably`` for instruction ``k`` = ldexp(a, n), split on n's values:
    ``holds(a_range, n_lo, n_hi)`` (True, or None: undecided) once n is
    integer-valued and bounded on a box; n not integer-valued refutes."""
    a_ref, n_ref = program.instrs[k].args

    def test(r):
        nlo, nhi, nint = r[n_ref]
        if not nint or not (math.isfinite(nlo) and math.isfinite(nhi)):
            return None if nint else False
        return holds(r[a_ref][:2], nlo, nhi)

    return provably(program, test, x, carrier, split_on=n_ref)


def exponent_sat_ok(program, k: int, carrier: str, x: tuple[float, float] = (-_INF, _INF)) -> bool:
    """Whether instruction ``k`` = ldexp(a, n) may be computed by adding n to
    a's exponent field and clamping the bits to [0, bits of inf] (``ldexp_sat_``)
    for every input in ``x``: n integer-valued and bounded, a positive and
    normal, and a's exponent field plus n within (-2 bias - 2, 2 bias + 1], so
    that the sum neither wraps past the sign bit nor below -2^31: a field
    above 2 bias then means a * 2^n overflows (inf), one below 1 that it is
    below the normal range (0)."""
    tiny, big = _FINITE[carrier]
    bias = {"float32": 127, "float64": 1023}[carrier]

    def holds(a, nlo, nhi):
        lo, hi = a
        if not (tiny <= lo and hi <= big):
            return None
        e_lo, e_hi = math.frexp(lo)[1] - 1 + bias, math.frexp(hi)[1] - 1 + bias
        return True if e_hi + nhi <= 2 * bias + 1 and e_lo + nlo > -2 * bias - 2 else None

    return _ldexp_provably(program, k, carrier, x, holds)


def exponent_add_ok(program, k: int, carrier: str, x: tuple[float, float] = (-_INF, _INF)) -> bool:
    """Whether instruction ``k`` = ldexp(a, n) may be computed by adding n to
    a's exponent field for every input in ``x``: n integer-valued, a and
    a * 2^n normal (neither 0, subnormal, inf nor NaN) in ``carrier``."""
    tiny, big = _FINITE[carrier]

    def holds(a, nlo, nhi):
        lo, hi = a
        if nlo != nhi or lo <= 0.0 <= hi:
            return None
        m_lo, m_hi = (lo, hi) if lo > 0 else (-hi, -lo)
        s = 2.0 ** nlo
        return True if (m_lo >= tiny and m_lo * s >= tiny and m_hi <= big and m_hi * s <= big) else None

    return _ldexp_provably(program, k, carrier, x, holds)
