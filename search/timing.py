"""Measured JAX/XLA time of a program against the target's own jax.numpy form.

``time_program`` exports the program with the ``jax`` exporter (its bit-exact
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

import contextlib
import importlib.util
import math
import os
import sys
import tempfile
import time
import uuid

import numpy as np

from ..evaluators.targets import FUNCTIONS, Target
from ..primitives.formats import FORMATS



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


def load_exported(program, fmt_name: str, header: str = ""):
    """The jax exporter's module for ``program``, loaded from a temporary file."""
    from .exporters import export

    src = export(program, fmt_name, "jax", header)
    name = f"_numsearch_timed_{uuid.uuid4().hex}"
    fd, path = tempfile.mkstemp(suffix=".py", prefix=name)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(src)
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        os.unlink(path)
        sys.modules.pop(name, None)
    return mod


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
    import jax.numpy as jnp

    if isinstance(program, str):
        from ..primitives.program import parse_program
        program = parse_program(program)
    target = Target(target_text)
    funcs = jax_functions()
    x64 = FORMATS[fmt_name].hardware.name == "float64"
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        mod = load_exported(program, fmt_name, f"timed by numsearch for {target_text}")
        dtype = np.dtype(mod.DTYPE)
        xd = jax.device_put(_inputs(fmt_name, lo, hi, n, seed, dtype))
        ref_dtype = dtype

        def ref_fn_of(dt):
            @jax.jit
            def ref(x):
                return jnp.asarray(target.array(x.astype(dt), funcs)).astype(dtype)
            return ref

        ref_fn = ref_fn_of(dtype)
        try:
            jax.block_until_ready(ref_fn(xd))
        except Exception:  # no float8 (or similar) form of the function in XLA
            ref_dtype = np.dtype(np.float32)
            ref_fn = ref_fn_of(ref_dtype)
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
