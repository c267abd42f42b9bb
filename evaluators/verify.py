"""Verification of a program's error: exhaustive over a format, or sampled.

Error definitions, at each x where the target f is defined (NaN where mpmath
gives no real value; such points are counted as ``undefined`` and skipped):

- ULP error ``|y - f| / ulp_fmt(f)``, ``ulp_fmt`` as in
  ``primitives.formats.Format.ulp`` (spacing of the format at |f|, subnormal
  spacing below the normal range and at f = 0, see ``fast_ulp``); the format
  is the program's, except that ``real`` and ``float64`` programs are scored
  in float64 ULPs (``Format.hardware``);
- absolute ``|y - f|`` and relative ``|y - f| / |f|`` error.

Special values: where y == f (including equal infinities) every error is 0; a
program that overflows to the infinity that f itself rounds to in the format
scores 0 too; any other non-finite y, or an infinite f that y misses, scores inf.

References.  The exhaustive check (``exhaustive=True``) evaluates every value
of the format in [lo, hi] (``values.chunks``: float32 by enumerating bit
patterns, narrow formats via ``reference.all_values``) against the
target in float64 with NumPy/SciPy (``Target.numpy``), since mpmath would take
days.  Each float64 function is within about one float64 ulp, i.e. ~2^-29
float32 ulps, so the figures are exact to that order for float32 and narrower
formats (unless the target expression cancels; ``ref_check`` measures it: the
float64 reference against mpmath on random points of the range, and the
worst point again with mpmath).  Exhaustive checks of ``float64``/``real``
programs are refused (ValueError); their check (``exhaustive=False``, any
format) is sampled against the mpmath double-double reference
(``reference.reference``) on ``samples`` points: a dense grid
(``reference.sample_grid``), uniform points, and points uniform over the
format's values (every binade of the range).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Callable

import numpy as np

from ..primitives import doubledouble as ddm
from ..primitives.formats import FORMATS, Format
from ..primitives.interpret import evaluate
from ..primitives.native import program_function

from . import reference as refmod
from . import values
from .heap import keep_freed_memory
from .targets import Target

CHUNK = 1 << 18  # float64 temporaries of 2 MiB
DEFAULT_SAMPLES = 20000


# ----------------------------------------------------------------- results
def _plain(obj) -> dict:
    """A result dataclass as a dict for JSON (nested results as dicts; the
    optional fields that are None are left out)."""
    out = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        if v is not None:
            out[f.name] = _plain(v) if is_dataclass(v) else v
    return out


@dataclass(frozen=True)
class ReferenceCheck:
    """How far the float64 NumPy reference of an exhaustive check is from mpmath."""

    points: int                          # random format values of [lo, hi] compared
    max_ref_diff_ulp: float              # max |float64 reference - mpmath|, in ULPs of the format
    nan_mismatch: int                    # points where one of the two is NaN and the other not
    max_ulp_mpmath: float | None = None  # the worst point's error redone with mpmath (None: no worst point)

    def asdict(self) -> dict:
        return _plain(self)


@dataclass(frozen=True)
class VerifyResult:
    """What a check found: max / mean ULP, max absolute and relative error and
    where they occur, over the points where the target is defined."""

    target: str
    format: str                      # the program's format
    lo: float
    hi: float
    exhaustive: bool                 # every value of the format in [lo, hi], or sampled
    reference: str                   # "numpy-float64" (exhaustive) or "mpmath" (sampled)
    ulp_format: str                  # the format ULPs are counted in (``Format.hardware``)
    points: int                      # points scored
    undefined: int                   # points where the target is NaN (skipped)
    max_ulp: float
    x_max_ulp: float
    y_at_max_ulp: float              # the output there
    ref_at_max_ulp: float            # the reference there
    mean_ulp: float
    max_abs: float
    x_max_abs: float
    max_rel: float
    x_max_rel: float
    nonfinite: int                   # points scoring inf
    seconds: float
    reference_check: ReferenceCheck | None = None  # exhaustive checks with ref_check > 0
    program_ops: int | None = None                 # ``ulp_check``'s exhaustive check of a program
    flushed: int | None = None       # ``flush_inputs``: subnormal inputs whose output was +-0, not scored

    def asdict(self) -> dict:
        """Every field, ``reference_check`` as a dict; None fields left out."""
        return _plain(self)


# ----------------------------------------------------------------- formats
def _fmt(name: str) -> Format:
    return FORMATS[name]


def exhaustive_possible(fmt_name: str) -> bool:
    """Whether ``ulp_check`` can check every value of the format: float32 and
    narrower (float64 has 2^64 values, and its float64 reference is not
    accurate enough to score it)."""
    fmt = _fmt(fmt_name)
    return not fmt.is_real and fmt.precision <= 24


def fast_ulp(f: np.ndarray, fmt: Format) -> np.ndarray:
    """``fmt.ulp(f)`` for finite f, by bit arithmetic on float64 where the
    format's smallest spacing is a normal float64 (all but float64 and real).
    At f = 0 it is the subnormal spacing 2^(emin - p + 1), the limit of
    ulp(f) as f -> 0."""
    if fmt.precision is None or fmt.emin - fmt.precision + 1 < -1022:
        return fmt.ulp(f)
    e = (np.asarray(f, dtype=np.float64).view(np.uint64) >> np.uint64(52)) & np.uint64(0x7FF)
    np.maximum(e, np.uint64(fmt.emin + 1023), out=e)
    e -= np.uint64(fmt.precision - 1)
    e <<= np.uint64(52)
    return e.view(np.float64)


def _as_program(program):
    if isinstance(program, str):
        from ..primitives.program import parse_program
        return parse_program(program)
    return program


# ----------------------------------------------------------------- errors
def _errors(y: np.ndarray, f: np.ndarray, d: np.ndarray, fmt: Format, ufmt: Format):
    """(ulp, abs, rel) errors from output y, reference f (float64) and |y - f| = d."""
    with np.errstate(all="ignore"):
        e_ulp = d / fast_ulp(f, ufmt)
        e_rel = d / np.abs(f)
        e_abs = d.copy()
        bad = ~np.isfinite(e_ulp) | ~np.isfinite(e_rel)
        if bad.any():
            i = np.flatnonzero(bad)
            yi, fi, di = y[i], f[i], d[i]
            zero = (di == 0) | (yi == fi) | (np.isinf(yi) & (yi == fmt.round(fi)))
            for e in (e_ulp, e_rel, e_abs):
                e[i] = np.where(zero, 0.0, np.where(np.isfinite(e[i]), e[i], np.inf))
    return e_ulp, e_abs, e_rel


class _Acc:
    """Running max (with its x) and sums over chunks."""

    def __init__(self):
        self.n = 0
        self.sums: list[float] = []
        self.nonfinite = 0
        self.best = {k: (-1.0, math.nan, math.nan, math.nan) for k in ("ulp", "abs", "rel")}

    def add(self, x, y, f, errs):
        self.n += len(x)
        e_ulp = errs[0]
        fin = np.isfinite(e_ulp)
        if fin.all():
            self.sums.append(float(e_ulp.sum()))
        else:
            self.nonfinite += int((~fin).sum())
            self.sums.append(math.inf)
        for k, e in zip(("ulp", "abs", "rel"), errs):
            if len(e):
                i = int(np.argmax(e))
                if e[i] > self.best[k][0]:
                    self.best[k] = (float(e[i]), float(x[i]), float(y[i]), float(f[i]))

    def result(self, target_text, fmt_name, lo, hi, exhaustive, reference, ulp_fmt, undefined,
               seconds) -> VerifyResult:
        b = self.best
        return VerifyResult(
            target=target_text, format=fmt_name, lo=float(lo), hi=float(hi), exhaustive=exhaustive,
            reference=reference, ulp_format=ulp_fmt, points=self.n, undefined=undefined,
            max_ulp=b["ulp"][0] if self.n else math.nan,
            x_max_ulp=b["ulp"][1], y_at_max_ulp=b["ulp"][2], ref_at_max_ulp=b["ulp"][3],
            mean_ulp=(math.fsum(self.sums) / self.n) if self.n else math.nan,
            max_abs=b["abs"][0] if self.n else math.nan, x_max_abs=b["abs"][1],
            max_rel=b["rel"][0] if self.n else math.nan, x_max_rel=b["rel"][1],
            nonfinite=self.nonfinite, seconds=seconds)


# ----------------------------------------------------------------- checks
def _mp_ulp(target: Target, x: np.ndarray, y: np.ndarray, ufmt: Format) -> np.ndarray:
    """ULP errors of float64 outputs y at x against the mpmath reference."""
    ref = refmod.reference(target, np.asarray(x, dtype=np.float64), cache=False)
    d = ddm.dd_sub(ddm.dd(np.asarray(y, dtype=np.float64)), ref)
    with np.errstate(all="ignore"):
        return _errors(np.asarray(y, dtype=np.float64), ref[0], np.abs(d[0] + d[1]), ufmt, ufmt)[0]


def _reference_check(target, fmt, lo, hi, n, rng, worst) -> ReferenceCheck:
    """The float64 NumPy reference against mpmath, in ULPs of fmt, on n random
    format values of [lo, hi]; and the worst point's error redone with mpmath."""
    x = values.random_values(fmt, lo, hi, n, rng)
    f64 = target.numpy(x)
    ref = refmod.reference(target, x, cache=False)
    ok = np.isfinite(f64) & np.isfinite(ref[0])
    with np.errstate(all="ignore"):
        d = ddm.dd_sub(ddm.dd(f64[ok]), (ref[0][ok], ref[1][ok]))
        diff = np.abs(d[0] + d[1]) / fast_ulp(ref[0][ok], fmt)
    x_w, y_w = worst
    return ReferenceCheck(
        points=int(ok.sum()), max_ref_diff_ulp=float(diff.max()) if diff.size else 0.0,
        nan_mismatch=int((np.isnan(f64) != np.isnan(ref[0])).sum()),
        max_ulp_mpmath=float(_mp_ulp(target, np.array([x_w]), np.array([y_w]), fmt)[0]) if np.isfinite(x_w) else None)


def ulp_check_function(fn: Callable[[np.ndarray], np.ndarray], target_text: str, lo: float, hi: float,
                       fmt_name: str, chunk: int = CHUNK, progress: Callable[[int, int], None] | None = None,
                       ref_check: int = 2000, seed: int = 0, flush_inputs: bool = False) -> VerifyResult:
    """Exhaustive check of any function of format values (e.g. ``jnp.exp``).

    ``fn`` gets each chunk as an array of the format's storage dtype (float32,
    float16, ml_dtypes bfloat16/float8) and returns its values (any float
    dtype; they should be values of the format).  See the module docstring for
    the reference and error definitions; returns the result of ``ulp_check``.
    ``flush_inputs``: code that flushes subnormal inputs to zero (XLA on CPU
    does): a subnormal x whose output is +-0 is not scored (tanh(x) = x there,
    0 is what flushing gives), only counted (``flushed``); every other output
    at a subnormal x is scored as usual.
    """
    fmt = _fmt(fmt_name)
    if not exhaustive_possible(fmt_name):
        raise ValueError(f"exhaustive ULP check needs float32 or a narrower format, not {fmt_name!r}: "
                         f"its float64 reference is not accurate enough (use exhaustive=False, samples=N "
                         f"for a sampled check against mpmath)")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"bad interval [{lo}, {hi}]")
    target = Target(target_text)
    keep_freed_memory()
    total, chunks = values.chunks(fmt, lo, hi, chunk)
    if total == 0:
        raise ValueError(f"no {fmt_name} values in [{lo}, {hi}]")
    acc = _Acc()
    undefined = done = flushed = 0
    t0 = time.perf_counter()
    tiny = 2.0 ** fmt.hardware.emin
    for xs in chunks:
        y = np.asarray(fn(xs), dtype=np.float64).reshape(-1)
        x = xs.astype(np.float64)
        if flush_inputs:
            kept = ~((np.abs(x) < tiny) & (x != 0) & (y == 0))
            if not kept.all():
                n_out = int((~kept).sum())
                flushed, done = flushed + n_out, done + n_out
                x, y = x[kept], y[kept]
        f = target.numpy(x)
        f = np.broadcast_to(f, x.shape) if f.shape != x.shape else f
        defined = ~np.isnan(f)
        done += len(x)
        if not defined.all():
            undefined += int((~defined).sum())
            x, y, f = x[defined], y[defined], f[defined]
        with np.errstate(all="ignore"):
            d = np.abs(y - f)
        acc.add(x, y, f, _errors(y, f, d, fmt, fmt))
        if progress is not None:
            progress(done, total)
    res = acc.result(target_text, fmt_name, lo, hi, True, "numpy-float64", fmt.name, undefined,
                     time.perf_counter() - t0)
    if flush_inputs:
        res = replace(res, flushed=flushed)
    if ref_check:
        res = replace(res, reference_check=_reference_check(target, fmt, lo, hi, ref_check,
                                                            np.random.default_rng(seed),
                                                            (res.x_max_ulp, res.y_at_max_ulp)))
    return res


def sampled_check(program, target_text: str, lo: float, hi: float, fmt_name: str,
                  samples: int = DEFAULT_SAMPLES, seed: int = 0, cache: bool = True) -> VerifyResult:
    """The program against the mpmath reference on about ``samples`` points
    of the format in [lo, hi]: half ``reference.sample_grid`` (endpoints,
    Chebyshev and uniform grid), a quarter uniform and a quarter uniform over
    bit patterns (seeded), of the program's hardware format (``Format.hardware``:
    float64 for real).  Errors in double-double; ULPs of that hardware format."""
    program = _as_program(program)
    ufmt = _fmt(fmt_name).hardware
    target = Target(target_text)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    grid = refmod.sample_grid(ufmt, lo, hi, max(2, samples // 2))
    x = np.unique(np.concatenate([grid, values.random_values(ufmt, lo, hi, samples - len(grid), rng)]))
    ref = refmod.reference(target, x, cache=cache)
    yv = evaluate(program, x, fmt_name)
    y2 = yv if isinstance(yv, tuple) else ddm.dd(np.broadcast_to(yv, x.shape).astype(np.float64))
    y2 = tuple(np.broadcast_to(v, x.shape) for v in y2)
    defined = ~np.isnan(ref[0])
    undefined = int((~defined).sum())
    x, f = x[defined], ref[0][defined]
    y2 = (y2[0][defined], y2[1][defined])
    with np.errstate(all="ignore"):
        dd = ddm.dd_sub(y2, (f, ref[1][defined]))
        d = np.abs(dd[0] + dd[1])
    acc = _Acc()
    acc.add(x, y2[0], f, _errors(y2[0], f, d, ufmt, ufmt))
    return acc.result(target_text, fmt_name, lo, hi, False, "mpmath", ufmt.name, undefined,
                      time.perf_counter() - t0)


def ulp_check(program, target_text: str, lo: float, hi: float, fmt_name: str, exhaustive: bool = True,
              samples: int | None = None, chunk: int = CHUNK,
              progress: Callable[[int, int], None] | None = None, ref_check: int = 2000,
              seed: int = 0, processes: int = 1) -> VerifyResult:
    """Max / mean ULP error (and max absolute / relative error) of ``program``
    (a Program or its text) evaluated in ``fmt_name`` against ``target_text``
    on [lo, hi].

    exhaustive=True: every value of the format in [lo, hi] (float32 and
    narrower only, else ValueError), in chunks of ``chunk`` points (memory
    bounded), float64 NumPy reference, ``progress(done, total)`` after each
    chunk; float32 goes through the native float32 ``native.eval_float32`` (bit for
    bit the interpreter); ``ref_check`` random points (seeded by ``seed``)
    compare the float64 reference with mpmath.  Measured on one loaded core:
    all 1.07e9 float32 values of [0, 1] in ~10 s for a 10-op add/mul program,
    ~20 s with 4 of the 10 ops fma.  exhaustive=False: ``sampled_check``
    against mpmath on ``samples`` points (default 20000; ``samples`` is used
    only then).  Returns a ``VerifyResult``; exhaustive checks add
    ``reference_check`` (a ``ReferenceCheck``: float64 reference vs mpmath,
    the worst point redone with mpmath) and ``program_ops``.  ``processes``:
    a float32 check of at least ``PARALLEL_MIN`` values is split into that
    many runs of consecutive values, checked in fresh processes and merged
    (the same figures; ``progress`` after each run).
    """
    program = _as_program(program)
    if not exhaustive:
        return sampled_check(program, target_text, lo, hi, fmt_name, samples or DEFAULT_SAMPLES, seed)
    if not exhaustive_possible(fmt_name):
        raise ValueError(f"exhaustive ULP check is for float32 and narrower formats, not {fmt_name!r} "
                         f"(2^64 inputs, and the float64 reference is not accurate enough to score "
                         f"float64): use exhaustive=False with samples=N for a sampled mpmath check")
    total = values.count_values(fmt_name, lo, hi) if processes > 1 and _fmt(fmt_name).name == "float32" else 0
    if total and total >= PARALLEL_MIN:
        res = _parallel_check(program, target_text, lo, hi, fmt_name, chunk, progress, processes, total)
        if ref_check:
            res = replace(res, reference_check=_reference_check(Target(target_text), _fmt(fmt_name), lo, hi,
                                                                ref_check, np.random.default_rng(seed),
                                                                (res.x_max_ulp, res.y_at_max_ulp)))
    else:
        res = ulp_check_function(program_function(program, fmt_name), target_text, lo, hi, fmt_name,
                                 chunk=chunk, progress=progress, ref_check=ref_check, seed=seed)
    return replace(res, program_ops=program.ops)


PARALLEL_MIN = 1 << 26   # float32 values below which ``ulp_check`` stays in this process


def _part(args) -> VerifyResult:
    text, target_text, lo, hi, fmt_name, chunk = args
    return ulp_check(text, target_text, lo, hi, fmt_name, chunk=chunk, ref_check=0)


def _parallel_check(program, target_text, lo, hi, fmt_name, chunk, progress, processes, total) -> VerifyResult:
    """``ulp_check`` over [lo, hi] in ``processes`` runs of consecutive float32 values
    (fresh ``spawn`` processes: no state of this one, JAX or Ray threads, is inherited), merged."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ov = values.OrderedValues(FORMATS["float32"])
    k0, k1 = values.float32_keys(lo, hi)
    edges = np.unique(np.linspace(k0, k1 + 1, processes + 1).round().astype(np.int64))
    parts = [(program.text(), target_text, ov.value(a), ov.value(b - 1), fmt_name, chunk)
             for a, b in zip(edges[:-1], edges[1:])]
    t0 = time.perf_counter()
    done, results = 0, []
    with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("spawn")) as pool:
        for fut in as_completed([pool.submit(_part, a) for a in parts]):
            results.append(fut.result())
            done += results[-1].points + results[-1].undefined
            if progress is not None:
                progress(min(done, total), total)
    return _merged(results, target_text, fmt_name, lo, hi, time.perf_counter() - t0)


def _merged(parts: list[VerifyResult], target_text, fmt_name, lo, hi, seconds) -> VerifyResult:
    """One ``VerifyResult`` of checks over disjoint runs of values."""
    scored = [r for r in parts if r.points]
    # a tie goes to the point a single check meets first: negative values from 0 down, then 0 and up
    order = lambda x: (0, -x) if x < 0 or (x == 0 and math.copysign(1, x) < 0) else (1, x)

    def top(f: str, xf: str) -> VerifyResult:
        if not scored:
            return parts[0]
        m = max(getattr(r, f) for r in scored)
        return min((r for r in scored if getattr(r, f) == m), key=lambda r: order(getattr(r, xf)))
    u, a, rel = top("max_ulp", "x_max_ulp"), top("max_abs", "x_max_abs"), top("max_rel", "x_max_rel")
    n = sum(r.points for r in parts)
    return replace(parts[0], lo=float(lo), hi=float(hi), points=n, undefined=sum(r.undefined for r in parts),
                   max_ulp=u.max_ulp, x_max_ulp=u.x_max_ulp, y_at_max_ulp=u.y_at_max_ulp,
                   ref_at_max_ulp=u.ref_at_max_ulp,
                   mean_ulp=math.fsum(r.mean_ulp * r.points for r in scored) / n if n else math.nan,
                   max_abs=a.max_abs, x_max_abs=a.x_max_abs, max_rel=rel.max_rel, x_max_rel=rel.x_max_rel,
                   nonfinite=sum(r.nonfinite for r in parts), seconds=seconds, reference_check=None)
