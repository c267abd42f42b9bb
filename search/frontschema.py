"""The schema of front.json, checked before pareto, export or verify use a file.

``validate(doc, where)`` raises ``UserError`` with one line naming the first
field that is wrong (``front.json: front[2].cost: must be a number >= 0,
got 'x'``): the shape, every required field, known format, metric and cost
model, finite numbers, program text that parses into at most
``MAX_OPS`` ops of the registry, a target the safe parser accepts and
whose reference is cheap enough to compute.
"""
from __future__ import annotations

import math

from .errors import UserError
from .limits import LIMITS
from .show import show

MAX_ENTRIES = 10_000
MAX_OPS = int(LIMITS["search.max_ops"][0])
MAX_PROGRAM_CHARS = 100_000


class _Bad(Exception):
    pass


def _num(v, path, lo=0.0, inf_ok=False, none_ok=False):
    if v is None and none_ok:
        return
    if inf_ok and v == "inf":
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < lo:
        alt = ' or "inf"' if inf_ok else ""
        raise _Bad(f"{path}: must be a number >= {lo:g}{alt}, got {show(v)}")


def _int(v, path, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _Bad(f"{path}: must be an integer from {lo} to {hi}, got {show(v)}")


def _entry(r, path, fmt):
    from ..primitives.program import ProgramError, parse_program

    if not isinstance(r, dict):
        raise _Bad(f"{path}: must be an object, got {show(r)}")
    for k in ("id", "cost", "ops", "error", "program"):
        if k not in r:
            raise _Bad(f"{path}: missing field {k!r}")
    if r["id"] is not None:
        _int(r["id"], f"{path}.id", 0, MAX_ENTRIES)
    _num(r["cost"], f"{path}.cost")
    _int(r["ops"], f"{path}.ops", 0, MAX_OPS)
    _num(r["error"], f"{path}.error", inf_ok=True)
    for k in ("max_ulp", "error_float64", "search_error", "speed_ratio", "ratio_q25", "ratio_q75", "exhaustive_error"):
        if k in r:
            _num(r[k], f"{path}.{k}", inf_ok=True, none_ok=True)
    if "ulp_format" in r and r["ulp_format"] is not None:
        from ..primitives.formats import FORMATS
        if not isinstance(r["ulp_format"], str) or r["ulp_format"] not in FORMATS:
            raise _Bad(f"{path}.ulp_format: unknown format {show(r['ulp_format'])}")
    text = r["program"]
    if not isinstance(text, str) or len(text) > MAX_PROGRAM_CHARS:
        raise _Bad(f"{path}.program: must be program text of at most {MAX_PROGRAM_CHARS} characters, got {show(text)}")
    try:
        prog = parse_program(text)
    except (ProgramError, ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError) as e:
        raise _Bad(f"{path}.program: not a program ({type(e).__name__}: {e})") from None
    if len(prog.instrs) > MAX_OPS * 4:
        raise _Bad(f"{path}.program: {len(prog.instrs)} instructions; at most {MAX_OPS * 4} are read")
    if prog.ops > MAX_OPS:
        raise _Bad(f"{path}.program: {prog.ops} ops; at most {MAX_OPS}")


def _check(doc, where):
    from ..evaluators.accuracy import METRICS
    from ..evaluators.cost import COST_MODELS
    from ..primitives.formats import FORMATS
    from ..primitives.ops import OPS

    if not isinstance(doc, dict):
        raise _Bad(f"not a numsearch front (a JSON object is expected, got {type(doc).__name__})")
    for k in ("target", "interval", "format", "metric", "front"):
        if k not in doc:
            raise _Bad(f"not a numsearch front (missing field {k!r})")
    fmt = doc["format"]
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise _Bad(f"format: unknown format {show(fmt)} (expected one of: {', '.join(FORMATS)})")
    m = doc["metric"]
    if not isinstance(m, str) or m not in METRICS:
        raise _Bad(f"metric: unknown metric {show(m)} (expected one of: {', '.join(METRICS)})")
    iv = doc["interval"]
    hw = FORMATS[fmt].hardware
    if (not isinstance(iv, list) or len(iv) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in iv)
            or not iv[0] < iv[1] or max(abs(iv[0]), abs(iv[1])) > hw.max_finite):
        raise _Bad(f"interval: must be [lo, hi] of finite {hw.name} numbers with lo < hi, got {show(iv)}")
    if "cost_model" in doc and (not isinstance(doc["cost_model"], str) or doc["cost_model"] not in COST_MODELS):
        raise _Bad(f"cost_model: unknown {show(doc['cost_model'])} (expected one of: {', '.join(COST_MODELS)})")
    cw = doc.get("cost_weights", {})
    if not isinstance(cw, dict):
        raise _Bad(f"cost_weights: must map op names to numbers, got {show(cw)}")
    for k, v in cw.items():
        if k not in OPS:
            raise _Bad(f"cost_weights.{show(k, 40)}: unknown op")
        _num(v, f"cost_weights.{k}")
    if "verify_points" in doc:
        _int(doc["verify_points"], "verify_points", 8, int(LIMITS["evaluation.verify_points"][0]))
    for k in ("binades", "whole"):
        if k in doc and not isinstance(doc[k], bool):
            raise _Bad(f"{k}: must be true or false, got {show(doc[k])}")
    if doc.get("error_target") is not None:
        _num(doc["error_target"], "error_target")
    front = doc["front"]
    if not isinstance(front, list) or len(front) > MAX_ENTRIES:
        raise _Bad(f"front: must be a list of at most {MAX_ENTRIES} entries, got {show(front)}")
    for i, r in enumerate(front):
        _entry(r, f"front[{i}]", fmt)
    if doc.get("fastest") is not None:
        _entry(doc["fastest"], "fastest", fmt)
    _target(doc, iv, fmt)


def _target(doc, iv, fmt):
    from ..evaluators.targetcheck import check_target
    from ..evaluators.targets import Target, TargetError
    from ..evaluators.task import Task

    t = doc["target"]
    if not isinstance(t, str):
        raise _Bad(f"target: must be a function name or an expression in x, got {show(t)}")
    try:
        Target(t)
        check_target(Task(t, float(iv[0]), float(iv[1]), fmt, doc["metric"],
                          verify_points=int(doc.get("verify_points", 20000))), cost_only=True)
    except TargetError as e:
        raise _Bad(f"target: {e}") from None


def validate(doc, where: str = "front.json") -> None:
    """Raise ``UserError`` (one line) unless ``doc`` is a valid front.json document."""
    try:
        _check(doc, where)
    except _Bad as e:
        raise UserError(f"{where}: {e}") from None
    except RecursionError:
        raise UserError(f"{where}: nested too deeply to be a numsearch front") from None
