"""Exported JAX code as a live function: load the module an exporter writes,
and check that compiled function itself, exhaustively, over the interval.

The bit-exact ``jax_exact`` export has the interpreter's figure by construction;
the fast ``jax`` export does not (XLA contracts a*b + c into fma, flushes
subnormals, rounds narrow formats once at the end), so its figure of record
is ``check_exported``: its jitted ``approx`` run on every value of the
interval in the format (float32 and narrower), against the float64
reference, by ``evaluators.verify.ulp_check_function``.  The modules loaded
are numsearch's own generated code, never user text.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import uuid
from typing import Callable

import numpy as np

from ..primitives.formats import FORMATS

# what ``--exported`` / ``Front.verify(exported=)`` name -> the exporter
EXPORTED = {"fast": "jax", "exact": "jax_exact"}


def load_source(src: str, stem: str = "numsearch_exported"):
    """A generated module's source text, loaded from a temporary file."""
    name = f"_{stem}_{uuid.uuid4().hex}"
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


def load_exported(program, fmt_name: str, header: str = "", to: str = "jax_exact", inputs=None):
    """The module exporter ``to`` (``jax_exact``, or the fast ``jax``) writes for ``program``;
    ``inputs``: (lo, hi), the fast export's precondition (``export_jax_fast``)."""
    from .exporters import export, fast_jax

    opts = {"inputs": tuple(inputs)} if inputs is not None and fast_jax(to) else {}
    return load_source(export(program, fmt_name, to, header, **opts), f"numsearch_{to}")


def x64_for(fmt_name: str):
    """The context a format's JAX code needs (64-bit JAX for float64 / real)."""
    import jax

    return jax.enable_x64(True) if FORMATS[fmt_name].hardware.name == "float64" else contextlib.nullcontext()


def kernel_of(mod) -> tuple:
    """(fn, args) to call a loaded JAX export inside one's own jit as fn(x, *args):
    the bit-exact ``jax_exact`` export's kernel with its constants and zero as
    run-time arguments (its guarantee needs them so), the fast one's kernel alone."""
    if hasattr(mod, "ZERO"):
        return mod.kernel, (mod.CONSTS, mod.ZERO)
    return mod.kernel, ()


def check_exported(program, target_text: str, lo: float, hi: float, fmt_name: str, to: str = "jax",
                   progress: Callable[[int, int], None] | None = None, mod=None, inputs=None, **options):
    """Exhaustive check (a ``VerifyResult``) of the compiled ``approx`` of the
    ``to`` export of ``program`` (a Program or its text; ``inputs``: its
    precondition, see ``load_exported``), or of ``mod``'s when given (a loaded
    export), on every ``fmt_name`` value of [lo, hi].  XLA:CPU flushes subnormal
    inputs to zero: a subnormal x whose output is +-0 is not scored, only
    counted (``VerifyResult.flushed``; ``ulp_check_function``'s ``flush_inputs``)."""
    from ..evaluators.verify import ulp_check_function

    if mod is None:
        if isinstance(program, str):
            from ..primitives.program import parse_program
            program = parse_program(program)
        mod = load_exported(program, fmt_name, to=to, inputs=inputs)
    return ulp_check_function(lambda xs: np.asarray(mod.approx(xs)), target_text, lo, hi, fmt_name,
                              progress=progress, flush_inputs=True, **options)
