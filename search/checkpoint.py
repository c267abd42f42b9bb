"""checkpoint.json: what a resume needs, and the checks a resume makes.

A checkpoint holds the search state, the seconds spent, the speed cache and
the spec's *fingerprint*: the parts of the spec that decide what the front
means (target, search, cost, evaluation grids, fitting).  ``load(out, spec)``
refuses with one line a missing or damaged checkpoint, or one made by a spec
whose fingerprint differs (naming the first key that differs); the budget,
workers, seed and speed settings may change on a resume.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .errors import UserError
from .show import show

NAME = "checkpoint.json"

# fingerprint field -> the spec key a user changes
_KEYS = {
    "task.target": "target.function", "task.lo": "target.interval", "task.hi": "target.interval",
    "task.format": "target.format", "task.metric": "target.metric", "task.whole": "target.interval",
    "task.beyond": "speed.inputs", "task.hash_ops": "speed.time",
    "task.cost_model": "cost.model", "task.cost_weights": "cost.weights",
    "task.fit_points": "evaluation.fit_points", "task.score_points": "evaluation.score_points",
    "task.verify_points": "evaluation.verify_points", "task.binades": "evaluation.binades",
    "search.mutation_weights": "search.mutations",
}


def fingerprint(spec) -> dict:
    """The spec's parts that a resume must keep, as plain JSON data."""
    fp = {"task": asdict(spec.task), "search": asdict(spec.search), "fitting": asdict(spec.fit)}
    return json.loads(json.dumps(fp))


def _defaults(spec) -> dict:
    """fingerprint path -> the default of that field (a field a checkpoint from an
    older version lacks is no difference where the spec leaves it at its default)."""
    from dataclasses import MISSING, fields
    out = {}
    for part, obj in (("task", spec.task), ("search", spec.search), ("fitting", spec.fit)):
        for f in fields(obj):
            if f.default is not MISSING:
                out[f"{part}.{f.name}"] = json.loads(json.dumps(f.default))
    return out


def _diff(a: dict, b: dict, path: str = "", defaults: dict | None = None) -> str | None:
    for k in sorted(set(a) | set(b)):
        p = f"{path}.{k}" if path else k
        x, y = a.get(k), b.get(k)
        if k not in a and defaults is not None and p in defaults and y == defaults[p]:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            d = _diff(x, y, p, defaults)
            if d:
                return d
        elif x != y:
            return p
    return None


def load(out: Path, spec) -> dict:
    """The checkpoint of the run in ``out``, checked against ``spec`` (see the module docstring)."""
    path = Path(out) / NAME
    if not path.exists():
        raise UserError(f"resume: {out} has no {NAME} (no run to resume there; run without --resume)")
    try:
        st = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) else "not valid JSON: truncated or damaged"
        raise UserError(f"resume: {path}: {why}; start again with --force") from None
    if not isinstance(st, dict) or not isinstance(st.get("search"), dict) or not isinstance(st.get("seconds", 0), (int, float)):
        raise UserError(f"resume: {path}: not a numsearch checkpoint (damaged); start again with --force")
    fp = st.get("fingerprint")
    if fp is not None:
        d = _diff(fp, fingerprint(spec), defaults=_defaults(spec))
        if d is not None:
            part, _, field = d.partition(".")
            key = _KEYS.get(d, _KEYS.get(f"{part}.{field.split('.')[0]}",
                                         d if part != "task" else f"target.{field}"))
            ck_v, now = _at(fp, d), _at(fingerprint(spec), d)
            raise UserError(f"resume: the spec differs from the run's in {key} ({show(now, 40)} here, "
                            f"{show(ck_v, 40)} in {path}); a resume keeps target, search, cost, evaluation and "
                            f"fitting (budget, workers, seed may change)")
    return st


def _at(d: dict, path: str):
    for part in path.split("."):
        d = d.get(part) if isinstance(d, dict) else None
    return d
