"""Measured JAX/XLA time of a program against the target's own jax.numpy form.

Two measurements.  ``speed_ratio`` (``speed_ratio_program`` for an export,
the fast ``jax`` export by default) is the compute-bound one issue 13 specifies: a chain
of 100 applications on a 16,384-element device-resident vector, one jitted
computation, minimum of 40 timings, median ratio over 5 interleaved
measurements with quartiles (see its docstring); ``speed_ratio_program``
measures on one core, in a pinned child process (see its docstring for why).  ``time_program`` below
times one call of the bit-exact export on a large array (throughput,
memory included).

``time_program`` exports the program with the ``jax_exact`` exporter (its bit-exact
jitted ``approx``), builds the reference by walking the target's whitelisted
tree with jax.numpy (``jnp.exp``, ``jnp.exp2``, ``jax.scipy.special.erf``,
``jax.nn.sigmoid``, ...; see ``jax_functions``) under ``jax.jit``, and times
both on the same inputs on JAX's default device, in one process: compile and
warm-up calls first, then ``repeats`` samples of each, interleaved (ABBA
order), each sample ``inner`` back-to-back calls (chosen per function so
that a sample holds at least ``min_sample_s`` of work) closed by
``block_until_ready``.
Inputs: n values uniform in [lo, hi] rounded to the run's format, in its
dtype (float64 with 64-bit JAX enabled for ``real``/``float64``; float8
references compute in float32 if XLA has no float8 form of a function).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

from ..evaluators.targets import FUNCTIONS, Target
from ..primitives.formats import FORMATS

from .exported import kernel_of, load_exported, x64_for



def jax_functions() -> dict:
    """name -> jax.numpy / jax.scipy form of every target function."""
    import jax
    import jax.numpy as jnp
    import jax.scipy.special as jss

    return {
        "pi": math.pi, "e": math.e,
        "exp": jnp.exp, "exp2": jnp.exp2, "expm1": jnp.expm1,
        "log": jnp.log, "log2": jnp.log2, "log10": jnp.log10, "log1p": jnp.log1p,
        "sqrt": jnp.sqrt, "cbrt": jnp.cbrt, "rsqrt": jax.lax.rsqrt,
        "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
        "asin": jnp.arcsin, "acos": jnp.arccos, "atan": jnp.arctan,
        "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh,
        "asinh": jnp.arcsinh, "atanh": jnp.arctanh,
        "erf": jss.erf, "erfc": jss.erfc, "gamma": jss.gamma, "lgamma": jss.gammaln,
        "sigmoid": jax.nn.sigmoid,
    }


def reference_name(target_text: str) -> str:
    """How the reference is shown: the jax function for a plain name."""
    name = target_text.strip()
    if name in FUNCTIONS:
        f = jax_functions()[name]
        return f"{getattr(f, '__module__', '')}.{getattr(f, '__name__', name)}".lstrip(".")
    return f"jax.numpy walk of {name!r}"


def reference_function(target_text: str, x) -> tuple:
    """(fn, dtype it computes in): the target's jax.numpy form as a function of
    arrays like ``x`` returning x's dtype; it computes in x's dtype, or in
    float32 where XLA has no form of the function for that dtype (float8)."""
    import jax
    import jax.numpy as jnp

    target, funcs, dtype = Target(target_text), jax_functions(), np.dtype(x.dtype)

    def of(dt):
        return lambda v: jnp.asarray(target.array(v.astype(dt), funcs)).astype(dtype)
    try:
        jax.jit(of(dtype)).lower(x).compile()
        return of(dtype), dtype
    except Exception:  # no float8 (or similar) form of the function in XLA
        return of(np.dtype(np.float32)), np.dtype(np.float32)


def _inputs(fmt_name: str, lo: float, hi: float, n: int, seed: int, dtype) -> np.ndarray:
    return FORMATS[fmt_name].hardware.round(np.random.default_rng(seed).uniform(lo, hi, n)).astype(dtype)


def _sample(fn, x, inner: int, group: int) -> float:
    """Seconds per call: ``inner`` calls, blocked every ``group`` calls."""
    import jax

    t0 = time.perf_counter()
    outs = []
    for _ in range(inner):
        outs.append(fn(x))
        if len(outs) >= group:
            jax.block_until_ready(outs)
            outs = []
    jax.block_until_ready(outs)
    return (time.perf_counter() - t0) / inner


def time_program(program, fmt_name: str, target_text: str, n: int = 2 ** 22, repeats: int = 30, *,
                 lo: float = 0.0, hi: float = 1.0, warmup: int = 3, min_sample_s: float = 0.03,
                 seed: int = 0) -> dict:
    """Median time per element of the program (exported JAX ``approx``) and of
    the target's jax.numpy form, and ``ratio`` = reference / program (> 1: the
    program is faster).  ``program`` is a Program or its text.  Returns a dict:
    device, platform, jax_version, format, dtype, reference_dtype, n, lo, hi,
    repeats, inner (calls per sample, {"program": k, "reference": k}),
    warmup, reference (the jax function), program_s / reference_s (median
    seconds per call), program_ns / reference_ns (median per element),
    program_iqr_s / reference_iqr_s ([p25, p75] per call), ratio,
    max_abs_diff (between the two outputs: a sanity check that both compute
    the target)."""
    import jax

    if isinstance(program, str):
        from ..primitives.program import parse_program
        program = parse_program(program)
    with x64_for(fmt_name):
        mod = load_exported(program, fmt_name, f"timed by numsearch for {target_text}")
        dtype = np.dtype(mod.DTYPE)
        xd = jax.device_put(_inputs(fmt_name, lo, hi, n, seed, dtype))
        ref, ref_dtype = reference_function(target_text, xd)
        ref_fn = jax.jit(ref)
        fns = {"program": mod.approx, "reference": ref_fn}
        outs = {}
        for name, fn in fns.items():  # compile + warm-up
            for _ in range(max(1, warmup)):
                outs[name] = jax.block_until_ready(fn(xd))
        with np.errstate(all="ignore"):
            diff = np.abs(np.asarray(outs["program"], np.float64) - np.asarray(outs["reference"], np.float64))
        max_diff = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else math.nan
        del outs, diff
        inner = {}
        for name, fn in fns.items():  # calls per sample: at least min_sample_s of work
            one = min(_sample(fn, xd, 1, 1) for _ in range(3))
            inner[name] = max(1, math.ceil(min_sample_s / max(one, 1e-9)))
        # calls in flight before blocking: 1 on CPU (measured: holding several
        # outputs there is up to 10x slower per call: fresh buffers, threads
        # competing); on accelerators enough to hide the sync, <= 1 GiB of outputs
        cpu = jax.devices()[0].platform == "cpu"
        group = 1 if cpu else max(1, (1 << 30) // max(n * dtype.itemsize, 1))
        times: dict[str, list[float]] = {k: [] for k in fns}
        names = list(fns)
        for r in range(repeats):
            for name in (names if r % 2 == 0 else names[::-1]):
                times[name].append(_sample(fns[name], xd, inner[name], group))
    dev = jax.devices()[0]
    med = {k: float(np.median(v)) for k, v in times.items()}
    iqr = {k: [float(np.percentile(v, 25)), float(np.percentile(v, 75))] for k, v in times.items()}
    return {
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "platform": dev.platform, "jax_version": jax.__version__,
        "format": fmt_name, "dtype": dtype.name, "reference_dtype": ref_dtype.name,
        "n": n, "lo": lo, "hi": hi, "repeats": repeats, "inner": inner, "warmup": warmup,
        "reference": reference_name(target_text),
        "program_s": med["program"], "reference_s": med["reference"],
        "program_ns": med["program"] / n * 1e9, "reference_ns": med["reference"] / n * 1e9,
        "program_iqr_s": iqr["program"], "reference_iqr_s": iqr["reference"],
        "ratio": med["reference"] / med["program"],
        "max_abs_diff": max_diff,
    }


def _chain(fn, lo: float, hi: float, steps: int):
    """jit of x, *args -> ``steps`` applications of fn(x, *args), each output
    clipped back into [lo, hi] (values stay in the interval; every step needs
    the last, so XLA can drop none), as one computation (``lax.fori_loop``)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    @jax.jit
    def run(x, *args):
        a, b = jnp.asarray(lo, x.dtype), jnp.asarray(hi, x.dtype)
        return lax.fori_loop(0, steps, lambda i, v: jnp.clip(fn(v, *args).astype(x.dtype), a, b), x)
    return run


def _best(run, x, args, timings: int) -> float:
    """The minimum of ``timings`` timed calls (seconds), each to block_until_ready."""
    import jax

    best = math.inf
    for _ in range(timings):
        t0 = time.perf_counter()
        jax.block_until_ready(run(x, *args))
        best = min(best, time.perf_counter() - t0)
    return best


def speed_ratio(fn, target_text: str, fmt_name: str, lo: float, hi: float, args: tuple = (), *, n: int = 16384,
                steps: int = 100, timings: int = 40, measurements: int = 5, seed: int = 0) -> dict:
    """Compute-bound speed of ``fn`` (a jax function of an array of the
    format's dtype, and of ``args``, passed as run-time arguments) against
    the target's jax.numpy form, in this process on JAX's default device.

    Each side is a chain of ``steps`` applications, each output clipped back
    into [lo, hi] (``_chain``), on one device-resident vector of ``n``
    values uniform in [lo, hi] rounded to the format, jitted as one
    computation; a measurement of a side is the minimum of ``timings``
    calls; ``measurements`` measurements of each, interleaved (ABBA); the
    ratio (reference time / program time, > 1: the program is faster) of each
    pair.  Returns a dict: device, jax_version, format, dtype,
    reference_dtype, reference, n, steps, timings, measurements, lo, hi,
    ratio (median of the ratios), ratio_q25 / ratio_q75, ratio_min /
    ratio_max, ratios (each), program_ns / reference_ns (median of the
    measurements, per element per application, the clip included)."""
    import jax

    with x64_for(fmt_name):
        x = jax.device_put(_inputs(fmt_name, lo, hi, n, seed, FORMATS[fmt_name].hardware.storage_dtype))
        ref, ref_dtype = reference_function(target_text, x)
        runs = {"program": _chain(fn, lo, hi, steps), "reference": _chain(ref, lo, hi, steps)}
        argv = {"program": tuple(args), "reference": ()}
        for k, run in runs.items():  # compile + warm-up
            jax.block_until_ready(run(x, *argv[k]))
        t: dict[str, list[float]] = {k: [] for k in runs}
        for m in range(measurements):
            for k in (("program", "reference") if m % 2 == 0 else ("reference", "program")):
                t[k].append(_best(runs[k], x, argv[k], timings))
    dev = jax.devices()[0]
    return {
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}", "jax_version": jax.__version__,
        "format": fmt_name, "dtype": np.dtype(x.dtype).name, "reference_dtype": ref_dtype.name,
        "reference": reference_name(target_text), "n": n, "steps": steps, "timings": timings,
        "measurements": measurements, "lo": lo, "hi": hi,
        **ratio_summary(t["program"], t["reference"], n * steps),
    }


def ratio_summary(program_s, reference_s, per: int) -> dict:
    """Paired measurements (seconds) of a program and its reference, as
    ``speed_ratio`` reports them: ratio (median of reference / program),
    ratio_q25 / ratio_q75, ratio_min / ratio_max, ratios (each pair's), and
    program_ns / reference_ns (median, per one of ``per`` elements)."""
    ratios = [r / p for p, r in zip(program_s, reference_s)]
    ns = lambda v: float(np.median(v)) / per * 1e9
    return {"ratio": float(np.median(ratios)), "ratio_q25": float(np.percentile(ratios, 25)),
            "ratio_q75": float(np.percentile(ratios, 75)), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "ratios": ratios, "program_ns": ns(program_s), "reference_ns": ns(reference_s)}


_CHILD = ("import json, os, sys\n"
          "os.sched_setaffinity(0, json.loads(sys.argv[2]))   # before JAX sizes its thread pool\n"
          "from numsearch.search.timing import speed_ratio_program\n"
          "a = json.loads(sys.argv[1])\n"
          "print(json.dumps(speed_ratio_program(**a, cores=None)))\n")


def speed_ratio_program(program, fmt_name: str, target_text: str, lo: float, hi: float, to: str = "jax",
                        cores: int | None = 1, inputs=None, **options) -> dict:
    """``speed_ratio`` of the ``to`` export (the fast ``jax`` or the bit-exact
    ``jax_exact``, its constants and zero passed as run-time arguments as its
    guarantee needs) of ``program`` (a Program or its text; ``inputs``: the
    fast export's precondition, see ``exported.load_exported``); adds
    ``exporter``, ``cores`` and ``inputs``.

    ``cores`` (default 1): measured in a child process whose CPU affinity is
    that many cores (XLA sizes its thread pool from it), unless this process
    has no more.  Both sides then get the same threads: XLA splits a fusion
    its cost model deems costly (a long program) over its threads and leaves
    a cheap-looking one (``jnp.exp`` is one HLO op) on one, so with free
    cores an in-process ratio measures the cores a side got, not its code
    (measured: a 14-op exp kernel 0.80 times ``jnp.exp``'s speed on one core,
    1.16 with a second core idle, 0.71 with it busy).  None: in this process."""
    if isinstance(program, str):
        from ..primitives.program import parse_program
        program = parse_program(program)
    if cores is not None and cores < len(os.sched_getaffinity(0)):
        return _in_child(dict(program=program.text(), fmt_name=fmt_name, target_text=target_text, lo=lo, hi=hi,
                              to=to, inputs=inputs, **options), cores)
    with x64_for(fmt_name):
        fn, args = kernel_of(load_exported(program, fmt_name, to=to, inputs=inputs))
    return dict(speed_ratio(fn, target_text, fmt_name, lo, hi, args, **options), exporter=to,
                cores=len(os.sched_getaffinity(0)), inputs=None if inputs is None else list(inputs))


def _in_child(args: dict, cores: int) -> dict:
    """``speed_ratio_program(**args)`` in a fresh Python pinned to the last ``cores`` of this process's CPUs."""
    cpus = sorted(os.sched_getaffinity(0))[-cores:]
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(args), json.dumps(cpus)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"timing child failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
