"""Compiled evaluation of programs: numba kernels that take the program as data.

One kernel per task, compiled once for all programs (not per program: most
candidates of a search have a structure of their own): the program is an
opcode array and an array of operand slots (``Code``), and the kernel loops
point by point, instruction by instruction.  Semantics are the NumPy
interpreter's (``interpret``), which stays the reference:

* ``value_and_jacobian``: float64 values and forward-mode derivatives w.r.t.
  the constants: values bit for bit the interpreter's; derivatives only
  where an instruction depends on the constant (elsewhere 0, where the
  interpreter's dense products give 0, or NaN times an infinite partial), so
  equal to the interpreter's wherever that is finite, and a point's row is
  non-finite in both or in neither;
* ``evaluate(prog, x, "real")``: double-double, bit for bit the interpreter's
  (its guarded slow paths near overflow and underflow included);
* ``evaluate(prog, x, fmt)`` for a hardware format: every instruction
  rounded once to the format (to the compute format of a mixed one, whose
  result is then rounded once to the format), bit for bit the interpreter's.

Ops with a kernel opcode: all of ``ops.OPS`` in float64 and double-double;
in hardware formats all but ``fma`` in formats wider than 26 bits (float64),
whose correctly rounded fma the kernels do not implement.  A program using an
op without an opcode (a future op, or those fma) goes to the NumPy
interpreter (``supported`` says which); so does everything when numba is not
importable or ``NUMSEARCH_KERNELS=0`` is set (``use_kernels`` switches at run
time, e.g. for benchmarks).

Compiled code is cached on disk (numba ``cache=True``): next to this file
when its folder is writable, else in numba's user cache folder, or where
``NUMBA_CACHE_DIR`` says.  The first call on a fresh machine compiles (see
the README for how long); later processes load the cache in well under a
second.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from . import interpret
from .formats import FORMATS, Format

OPCODES = {name: i for i, name in enumerate(
    ("add", "sub", "mul", "div", "fma", "neg", "rint", "ldexp", "exponent", "significand",
     "abs", "copysign", "min", "max", "pow2", "select"))}
ARITY = {"add": 2, "sub": 2, "mul": 2, "div": 2, "fma": 3, "neg": 1, "rint": 1, "ldexp": 2, "exponent": 1,
         "significand": 1, "abs": 1, "copysign": 2, "min": 2, "max": 2, "pow2": 1,
         "select": 3}

_state = {"on": os.environ.get("NUMSEARCH_KERNELS", "1") != "0", "nb": None}


def _nb():
    """The numba kernels (``_kernels_nb``, ``_dd_nb``) as one namespace,
    imported on first use; None without numba."""
    if _state["nb"] is None:
        try:
            from . import _dd_nb, _kernels_nb
            _state["nb"] = SimpleNamespace(**{k: v for m in (_kernels_nb, _dd_nb) for k, v in vars(m).items()
                                              if not k.startswith("__")})
        except ImportError:
            _state["nb"] = False
    return _state["nb"] or None


def available() -> bool:
    """Kernels are switched on and numba imports."""
    return _state["on"] and _nb() is not None


@contextmanager
def use_kernels(on: bool):
    """Switch the kernels on or off (off: every call goes to the interpreter)."""
    old = _state["on"]
    _state["on"] = on
    try:
        yield
    finally:
        _state["on"] = old


@dataclass(frozen=True, eq=False)
class Code:
    """A program's structure as arrays: ``opc[q]`` the opcode of instruction q,
    ``args[q]`` its operand slots (0 = x, 1 + i = constant i, 1 + k + j =
    instruction j; unused operands 0), ``out`` the output slot, ``deps[s, j]``
    whether slot s depends on constant j."""
    opc: np.ndarray
    args: np.ndarray
    arity: np.ndarray
    out: int
    deps: np.ndarray
    nconst: int
    ops: frozenset


def _slot(ref: str, k: int) -> int:
    if ref == "x":
        return 0
    return 1 + int(ref[1:]) + (0 if ref[0] == "c" else k)


@lru_cache(maxsize=8192)
def _encode(instrs, out: str, k: int):
    if any(ins.op not in OPCODES for ins in instrs):
        return None
    m = len(instrs)
    opc = np.array([OPCODES[ins.op] for ins in instrs], dtype=np.int64)
    args = np.zeros((m, 3), dtype=np.int64)
    deps = np.zeros((1 + k + m, k), dtype=np.bool_)
    deps[1:1 + k] = np.eye(k, dtype=np.bool_)
    for q, ins in enumerate(instrs):
        for p, a in enumerate(ins.args):
            args[q, p] = _slot(a, k)
            deps[1 + k + q] |= deps[args[q, p]]
    arity = np.array([len(ins.args) for ins in instrs], dtype=np.int64)
    return Code(opc, args, arity, _slot(out, k), deps, k, frozenset(ins.op for ins in instrs))


def encode(prog) -> Code | None:
    """The program's ``Code`` (cached by structure), or None if an op has no opcode."""
    return _encode(prog.instrs, prog.out, len(prog.consts))


def supported(prog, fmt="real") -> bool:
    """Whether the kernels evaluate ``prog`` in ``fmt`` (else the interpreter does)."""
    code = encode(prog)
    if code is None:
        return False
    f = (FORMATS[fmt] if isinstance(fmt, str) else fmt).op_format
    return f.is_real or f.precision <= 26 or "fma" not in code.ops


def _code(prog, fmt=None):
    if not available():
        return None
    if fmt is not None and not supported(prog, fmt):
        return None
    return encode(prog)


def _consts(prog, consts) -> np.ndarray:
    return np.ascontiguousarray(prog.consts if consts is None else consts, dtype=np.float64)


def value_and_jacobian(prog, x, consts=None):
    """Float64 value (n,) and Jacobian (n, k) w.r.t. the k constants (as
    ``interpret.value_and_jacobian``)."""
    code = _code(prog)
    if code is None:
        return interpret.value_and_jacobian(prog, x, consts)
    x = np.ascontiguousarray(x, dtype=np.float64)
    cs = _consts(prog, consts)
    v = np.empty(x.shape[0])
    J = np.empty((x.shape[0], cs.shape[0]))
    _nb().vjac(code.opc, code.args, code.arity, code.out, code.deps, x, cs, v, J)
    return v, J


def evaluate(prog, x, fmt="real", consts=None):
    """As ``interpret.evaluate`` (double-double pair for ``real``, else float64
    values of the format), through the kernels where ``supported``."""
    f: Format = FORMATS[fmt] if isinstance(fmt, str) else fmt
    if f.compute:   # a mixed format: every op in the compute format, the result rounded once to f
        y = evaluate(prog, x, f.op_format, consts)
        return round_to(f, y) if np.ndim(y) == 1 else f.round(y)
    x = np.asarray(x, dtype=np.float64)
    code = _code(prog, f) if x.ndim == 1 else None
    if code is None:
        return interpret.evaluate(prog, x, f, consts)
    x = np.ascontiguousarray(x)
    cs = _consts(prog, consts)
    if f.is_real:
        yh, yl = np.empty(x.shape[0]), np.empty(x.shape[0])
        _nb().eval_dd(code.opc, code.args, code.out, x, cs, yh, yl)
        return yh, yl
    y = np.empty(x.shape[0])
    if f.precision >= 53:
        _nb().eval_f64(code.opc, code.args, code.out, x, cs, y)
    else:
        _nb().eval_rounded(code.opc, code.args, code.out, x, cs, f.precision, f.emin, f.max_finite, f.has_inf, y)
    return y


def evaluate_float(prog, x, fmt="real", consts=None) -> np.ndarray:
    """As ``interpret.evaluate_float``: a float64 array (double-doubles summed)."""
    y = evaluate(prog, x, fmt, consts)
    return y[0] + y[1] if isinstance(y, tuple) else y


def round_to(fmt: Format, x) -> np.ndarray:
    """``fmt.round(x)`` (bit for bit), compiled for 1-d arrays where the kernels are on."""
    x = np.asarray(x, dtype=np.float64)
    if fmt.precision is None or fmt.precision >= 53 or x.ndim != 1 or not available():
        return fmt.round(x)
    out = np.empty_like(x)
    _nb().round_array(np.ascontiguousarray(x), fmt.precision, fmt.emin, fmt.max_finite, fmt.has_inf, out)
    return out


def warm_up() -> bool:
    """Compile (or load from the cache) every evaluation kernel now, on a tiny
    program; returns whether the kernels are available."""
    if not available():
        return False
    from .program import parse_program
    p = parse_program("c0 = 0.5\nv0 = fma(x, c0, x)\nv1 = div(v0, c0)\nreturn v1")
    x = np.linspace(0.0, 1.0, 4)
    value_and_jacobian(p, x)
    evaluate(p, x, "real")
    evaluate(p, x, "float32")
    evaluate(parse_program("c0 = 0.5\nv0 = mul(x, c0)\nreturn v0"), x, "float64")
    max_error(x, (x, x), x)
    round_to(FORMATS["bfloat16"], x)
    return True


def max_error(y, ref, weight) -> float | None:
    """``evaluators.accuracy.max_error`` compiled (bit for bit), or None where
    the kernels are off (the caller then computes it in NumPy)."""
    if not available():
        return None
    yh, yl = y if isinstance(y, tuple) else (y, np.zeros_like(y))
    a = [np.ascontiguousarray(np.broadcast_to(v, np.shape(ref[0])), dtype=np.float64) for v in (yh, yl)]
    return float(_nb().max_error(*a, np.ascontiguousarray(ref[0], dtype=np.float64),
                                 np.ascontiguousarray(ref[1], dtype=np.float64),
                                 np.ascontiguousarray(weight, dtype=np.float64)))
