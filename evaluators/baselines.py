"""Classical baselines, made into numsearch Programs and scored like search results.

Methods (``BASELINES``, looked up by name):

- ``taylor``: Taylor polynomial of degree d about the interval midpoint.
- ``minimax``: best polynomial of degree d (Remez exchange in mpmath, 40 digits).
- ``fpminimax``: polynomial of degree d with coefficients in the run's format
  (float64 for ``real``): minimax, then coefficients rounded one at a time with
  the rest refitted (see ``evaluators.fpminimax``).
- ``pade``: Padé approximant p/q of type (m, n), n >= 1, about the midpoint.
- ``rational_minimax``: best rational p/q of type (m, n), n >= 1 (Remez).
- ``rational_cf``: the same fits in continued-fraction form
  (``evaluators.contfrac``): type (n, n) in 3n ops instead of 4n.

The minimax fits use the weight of the task's metric: 1 for ``absolute``,
1/|f| for ``relative`` and ``ulp`` (ulp weights are piecewise constant, and
relative is their smooth stand-in).  A target that vanishes at 0, with 0 in
the interval, under a relative metric (sin, tanh, atan, log1p near 0) has
no polynomial or rational of finite relative error; its baselines are x times
the fits of f(x) / x (``Divided``), one op more, or, for an odd f (sin,
tanh, atan) on [0, b] or [-b, b], x times fits of f(sqrt t)/sqrt t in t = x^2
(``OddReduced``: x P(x^2), the classical odd kernel), two ops more.

Programs and op counts (``evaluators.horner``): Horner form in x with ``mul``
and ``add``, coefficients rounded to the run's format: a polynomial of degree
d costs 2d ops; a rational of type (m, n), with q made monic, 2(m + n) ops
(2m for p, 2n - 1 for q, 1 ``div``), as a polynomial of degree m + n;
``rational_cf`` builds its Programs with ``evaluators.contfrac`` instead.

``Baseline.error`` is the Program's max error in the task's metric, evaluated
in the task's format on the task's dense verify grid (``TaskData.error``),
exactly as search results are scored.  ``Baseline.exact_error`` is the error of
the approximation before rounding its coefficients to the format, evaluated
exactly on the 3000-point fit grid (for ``minimax``, the Remez error; for
``fpminimax``, the format-coefficient polynomial in real arithmetic).

Fits are cached on disk under ``cache_dir()/baselines``, keyed by target,
interval, weight, method and size (and coefficient format for fpminimax).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np

from ..primitives.formats import FORMATS
from ..primitives.registry import Registry
from ..primitives.program import Program

from . import remez as rz
from .cost import COST_MODELS
from .fpminimax import fpminimax
from .contfrac import cf_cost, cf_program
from .horner import horner_program
from .reference import cache_dir
from .targets import Target
from .task import TaskData

CACHE_VERSION = 1


@dataclass(frozen=True)
class Fit:
    """An approximation: coefficients in x (mpmath, ascending); ``den`` None for polynomials."""

    num: tuple
    den: tuple | None
    exact_error: float


@dataclass(frozen=True)
class Baseline:
    """One classical approximation as a Program.  ``ops`` is the Program's op count
    (2 * degree, or 2(m + n); less if the fit's leading coefficient vanishes)."""

    method: str
    size: int | tuple[int, int]   # degree, or (m, n) for p/q
    ops: int
    error: float                  # Program's max error: task format, metric, verify grid
    program: Program
    exact_error: float            # before coefficient rounding, exact arithmetic, fit grid
    cost: float = 0.0


class Divided:
    """f(x) / x as a target, f'(0) at 0.  A target that vanishes at a point 0 of its
    interval has no baseline of finite relative error (a polynomial is not 0 at 0
    exactly); its baselines are x times approximations of f(x) / x, one op more."""

    def __init__(self, t: Target):
        self.t, self.text = t, f"({t.text})/x"

    def mp(self, x):
        return self.t.mp(x) / x if x != 0 else mpmath.diff(self.t.mp, 0)


class OddReduced:
    """f(sqrt(t)) / sqrt(t) as a target in t = x^2, f'(0) at 0: the classical form of
    an odd f that vanishes at 0, x P(x^2), two ops more than P (``_odd_in_x``)."""

    def __init__(self, t: Target):
        self.t, self.text = t, f"odd({t.text})"

    def mp(self, t):
        if t == 0:
            return mpmath.diff(self.t.mp, 0)
        r = mpmath.sqrt(t)
        return self.t.mp(r) / r


def _is_odd(t: Target) -> bool:
    """f(-x) = -f(x) at a few points (to 30 digits)."""
    try:
        with mpmath.workdps(40):
            vs = [mpmath.mpf(v) for v in ("0.1", "0.37", "0.71", "1.3")]
            return all(abs(t.mp(-v) + t.mp(v)) <= mpmath.mpf(10) ** -30 * abs(t.mp(v)) for v in vs)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False


def _vanishes_at_0(t: Target, lo: float, hi: float) -> bool:
    if not lo <= 0.0 <= hi:
        return False
    try:
        with mpmath.workdps(rz.DPS):
            return t.mp(mpmath.mpf(0)) == 0
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False


class Problem:
    """What the fits of one task share: the fit grid and Taylor coefficients (lazy)."""

    def __init__(self, target: str, lo: float, hi: float, relative: bool, coeff_format: str):
        t = Target(target)
        lo, hi = float(lo), float(hi)
        vanishes = relative and _vanishes_at_0(t, lo, hi)
        # an odd target vanishing at 0: fits of f(sqrt t)/sqrt t on t = x^2 (OddReduced); another one:
        # fits of f(x)/x (Divided); else f itself
        self.odd = vanishes and (lo >= 0 or -lo == hi) and _is_odd(t)
        self.divided = vanishes and not self.odd
        if self.odd:
            self.target, self.lo, self.hi = OddReduced(t), min(lo * lo, hi * hi) if lo >= 0 else 0.0, hi * hi
        else:
            self.target, self.lo, self.hi = (Divided(t) if self.divided else t), lo, hi
        self.relative, self.coeff_format = relative, coeff_format
        self._grid = None
        self._taylor: dict[int, list] = {}
        self._minimax: dict[tuple[int, int], rz.Best | None] = {}

    @property
    def grid(self) -> rz.FitGrid:
        if self._grid is None:
            self._grid = rz.FitGrid(self.target, self.lo, self.hi, self.relative)
        return self._grid

    def taylor(self, degree: int) -> list:
        """Taylor coefficients about the midpoint, in u = x - mid."""
        if degree not in self._taylor:
            with mpmath.workdps(rz.DPS):
                self._taylor[degree] = mpmath.taylor(self.target.mp, self.grid.mid, degree)
        return self._taylor[degree]

    def minimax(self, m: int, n: int = 0):
        """Remez fit of type (m, n); a rational one starts from the nearest converged
        fit of type (m + k, n - k), which has as many reference points."""
        if (m, n) not in self._minimax:
            start = next((s for k in range(1, n + 1) if (s := self.minimax(m + k, n - k))), None)
            self._minimax[m, n] = rz.remez(self.grid, m, n, start)
        return self._minimax[m, n]

    def fit_from_t(self, num_t, den_t=()) -> Fit | None:
        """A Fit from t-coefficients; None if q has a zero on the interval.  Leading
        coefficients below 1e-30 of the largest (a lower true degree) are dropped."""
        g = self.grid
        num_t, den_t = _trim(num_t), _trim(den_t)
        if len(den_t) == 1:  # a constant denominator: a polynomial
            with mpmath.workdps(rz.DPS):
                num_t, den_t = [c / den_t[0] for c in num_t], []
        r = rz.Rational(tuple(num_t), tuple(den_t))
        if den_t and np.any(g.poly(den_t, g.t)[0] <= 0):
            return None
        err = g.max_error(r)
        if not np.isfinite(err):
            return None
        den_x = tuple(rz.t_to_x(g, den_t)) if den_t else None
        return Fit(tuple(rz.t_to_x(g, num_t)), den_x, err)

    def u_to_t(self, coeffs) -> list:
        with mpmath.workdps(rz.DPS):
            return [c * self.grid.half ** k for k, c in enumerate(coeffs)]


def _trim(coeffs) -> list:
    c = list(coeffs)
    top = max((abs(v) for v in c), default=0)
    while len(c) > 1 and abs(c[-1]) <= 1e-30 * top:
        c.pop()
    return c


# ------------------------------------------------------------------ methods
def _taylor(pb: Problem, d: int):
    return pb.fit_from_t(pb.u_to_t(pb.taylor(d)[: d + 1]))


def _minimax(pb: Problem, d: int):
    got = pb.minimax(d)
    return pb.fit_from_t(got.r.num) if got else None


def _fpminimax(pb: Problem, d: int):
    got = pb.minimax(d)
    if not got:
        return None
    floats, err = fpminimax(pb.grid, rz.t_to_x(pb.grid, got.r.num), FORMATS[pb.coeff_format])
    return Fit(tuple(mpmath.mpf(c) for c in floats), None, err)


def _pade(pb: Problem, mn: tuple[int, int]):
    m, n = mn
    with mpmath.workdps(rz.DPS):
        try:
            p, q = mpmath.pade(pb.taylor(m + n)[: m + n + 1], m, n)
        except (ZeroDivisionError, ValueError):
            return None
    return pb.fit_from_t(pb.u_to_t(p), pb.u_to_t(q))


def _rational_minimax(pb: Problem, mn: tuple[int, int]):
    got = pb.minimax(*mn)
    return pb.fit_from_t(got.r.num, got.r.den) if got else None


def _degrees(max_ops: int) -> list:
    return list(range(1, max_ops // 2 + 1))


def _types(max_ops: int) -> list:
    return [(s - n, n) for s in range(1, max_ops // 2 + 1) for n in range(1, s + 1)]


def _cf_types(max_ops: int) -> list:
    return [(m, n) for n in range(1, max_ops) for m in range(n - 1, max_ops) if cf_cost(m, n) <= max_ops]


def _horner(fit: Fit, fmt) -> Program:
    return horner_program(fit.num, fit.den, fmt)


def _cf(fit: Fit, fmt) -> Program | None:
    return None if fit.den is None else cf_program(fit.num, fit.den, fmt)   # a polynomial has no fraction


@dataclass(frozen=True)
class Method:
    name: str
    fit: Callable[[Problem, object], Fit | None]
    sizes: Callable[[int], list]   # max_ops -> sizes with ops <= max_ops
    doc: str
    format_dependent: bool = False
    build: Callable = _horner      # (Fit, format) -> Program, or None if it cannot
    fit_name: str = ""             # share the cached fits of this method (default: own)


BASELINES: Registry[Method] = Registry("baseline")
BASELINES.register("taylor", Method("taylor", _taylor, _degrees, "Taylor polynomial about the midpoint"))
BASELINES.register("minimax", Method("minimax", _minimax, _degrees, "polynomial minimax (Remez)"))
BASELINES.register("fpminimax", Method("fpminimax", _fpminimax, _degrees,
                                       "polynomial with format coefficients (round one, refit the rest)", True))
BASELINES.register("pade", Method("pade", _pade, _types, "Padé approximant about the midpoint"))
BASELINES.register("rational_minimax", Method("rational_minimax", _rational_minimax, _types,
                                              "rational minimax p/q (Remez)"))
BASELINES.register("rational_cf", Method("rational_cf", _rational_minimax, _cf_types,
                                         "rational minimax p/q as a continued fraction", build=_cf,
                                         fit_name="rational_minimax"))


# ------------------------------------------------------------------ cache
def _mp_json(v) -> list[int]:
    """[mantissa, exponent]: exact (mpf() rounds to the working precision, and
    man_exp drops the sign)."""
    with mpmath.workdps(rz.DPS + 10):
        v = mpmath.mpf(v)
    man, exp = v.man_exp
    return [int(-man if v < 0 else man), int(exp)]


def _json_mp(pair):
    with mpmath.workdps(rz.DPS + 10):
        return mpmath.mpf(tuple(pair))


def _cache_path(pb: Problem, method: Method, size) -> os.PathLike:
    key = [CACHE_VERSION, method.fit_name or method.name, size, pb.target.text, pb.lo.hex(), pb.hi.hex(),
           pb.relative, pb.coeff_format if method.format_dependent else "", rz.GRID_POINTS]
    h = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    return cache_dir() / "baselines" / f"{h}.json"


def cached_fit(pb: Problem, method: Method, size) -> Fit | None:
    path = _cache_path(pb, method, size)
    try:
        d = json.loads(path.read_text())
        if d.get("failed"):
            return None
        num = tuple(_json_mp(c) for c in d["num"])
        den = tuple(_json_mp(c) for c in d["den"]) if d["den"] is not None else None
        return Fit(num, den, float(d["exact"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        fit = method.fit(pb, size)
    except (ArithmeticError, ValueError, TypeError, np.linalg.LinAlgError):
        fit = None  # e.g. a target mpmath cannot differentiate, a singular system
    d = {"failed": True} if fit is None else {
        "num": [_mp_json(c) for c in fit.num],
        "den": [_mp_json(c) for c in fit.den] if fit.den is not None else None,
        "exact": fit.exact_error}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(d))
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is an optimisation only
    return fit


def _times_x(prog: Program) -> Program:
    """x * prog(x): one mul more."""
    from ..primitives.program import Instr
    n = len(prog.instrs)
    return Program(prog.consts, prog.instrs + (Instr("mul", ("x", prog.out)),), f"v{n}")


def _odd_in_x(prog: Program) -> Program:
    """x * prog(x^2): t = x * x first, the program on t, then times x (two muls more)."""
    from ..primitives.program import Instr
    ref = lambda a: "v0" if a == "x" else f"v{int(a[1:]) + 1}" if a[0] == "v" else a
    body = tuple(Instr(i.op, tuple(ref(a) for a in i.args)) for i in prog.instrs)
    n = len(body) + 1
    return Program(prog.consts, (Instr("mul", ("x", "x")),) + body + (Instr("mul", ("x", ref(prog.out))),), f"v{n}")


# ------------------------------------------------------------------ API
def problem_of(task, coeff_format: str | None = None) -> Problem:
    fmt = coeff_format or task.fmt.hardware.name
    return Problem(task.target, task.lo, task.hi, task.metric != "absolute", fmt)


def baseline_programs(task, max_ops: int, methods=None, data=None,
                      coeff_format: str | None = None) -> list[Baseline]:
    """Every baseline of every method (default: all) and size with ops <= max_ops,
    scored by ``TaskData.error`` on the task's verify grid (``data`` to reuse one).
    ``coeff_format``: fpminimax's coefficient format if not the task's."""
    data = data if data is not None else TaskData(task, task.verify_points)
    pb = problem_of(task, coeff_format)
    cost_fn, weights = COST_MODELS[task.cost_model], dict(task.cost_weights)
    out = []
    for name in methods or BASELINES.names():
        method = BASELINES[name]
        for size in method.sizes(max_ops):
            fit = cached_fit(pb, method, size)
            if fit is None:
                continue
            prog = method.build(fit, task.fmt)
            if prog is None:
                continue
            if pb.divided:
                prog = _times_x(prog)
            elif pb.odd:
                prog = _odd_in_x(prog)
            err = data.error(prog)
            if prog.ops <= max_ops and np.isfinite(err):
                out.append(Baseline(name, size, prog.ops, err, prog, fit.exact_error,
                                    cost_fn(prog, weights)))
    return out


def best_baseline_by_ops(task, max_ops: int, methods=None, data=None,
                         coeff_format: str | None = None) -> dict[int, Baseline]:
    """The best baseline at each op count, keeping only those better than every cheaper one."""
    best: dict[int, Baseline] = {}
    for b in baseline_programs(task, max_ops, methods, data, coeff_format):
        if b.ops not in best or b.error < best[b.ops].error:
            best[b.ops] = b
    front, floor = {}, float("inf")
    for ops in sorted(best):
        if best[ops].error < floor:
            front[ops], floor = best[ops], best[ops].error
    return front
