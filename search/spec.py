"""The YAML run spec: parsed and validated into a frozen ``RunSpec``.

Every problem is a ``SpecError`` whose message names the key path and the
value (``search.max_ops: must be an integer >= 1, got 'a'``); unknown keys
are errors.  No user text is executed: the target goes through the safe
expression parser of ``evaluators.targets``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..evaluators.accuracy import METRICS
from ..evaluators.cost import COST_MODELS
from ..evaluators.domain import whole_domain
from ..evaluators.targets import Target, TargetError
from ..evaluators.task import Task
from ..primitives.formats import FORMATS
from ..primitives.ops import OPS

from .engine import SearchConfig
from .errors import UserError
from .fitting import FitConfig
from .init import INITS
from .mutation import MUTATIONS
from .selection import SELECTORS
from .speedcache import TIMED_EXPORTERS, SpeedConfig
from .termination import Budget


class SpecError(UserError):
    """A spec that is not valid: the message names the key path."""


@dataclass(frozen=True)
class RunSpec:
    name: str
    task: Task
    search: SearchConfig
    budget: Budget
    fit: FitConfig = FitConfig()
    batch: int = 8
    workers: int = 2
    seed: int = 0
    error_target: float | None = None   # target.error: the accuracy the user needs
    speed: SpeedConfig = SpeedConfig()  # speed: timing of the programs that meet error_target
    source: str = ""             # the YAML text, copied into the run directory


_SCHEMA = {
    "name": None,
    "description": None,
    "target": {"function": None, "interval": None, "format": None, "compute": None, "metric": None, "error": None},
    "search": {"ops": None, "max_ops": None, "population": None, "islands": None, "migrate_every": None, "restart_after": None, "init": None, "init_ops": None,
               "selector": None, "hashing": None, "batch": None, "mutations": None, "dedup_retries": None},
    "budget": {"seconds": None, "evaluations": None, "stop_when": None},
    "cost": {"model": None, "weights": None},
    "evaluation": {"fit_points": None, "score_points": None, "verify_points": None, "binades": None},
    "fitting": {"starts": None, "lm_iters": None, "lawson_iters": None, "slp_iters": None, "perturb": None,
                "round_evals": None},
    "speed": {"time": None, "exporter": None, "n": None, "steps": None, "timings": None, "measurements": None, "verify": None,
              "max_timed": None, "max_fraction": None},
    "workers": None,
    "seed": None,
}


def _check_keys(d, schema, path=""):
    if not isinstance(d, dict):
        raise SpecError(f"{path or 'spec'}: must be a mapping, got {d!r}")
    for k, v in d.items():
        p = f"{path}.{k}" if path else str(k)
        if k not in schema:
            known = ", ".join(schema)
            raise SpecError(f"{p}: unknown key (expected one of: {known})")
        if isinstance(schema[k], dict) and v is not None:
            _check_keys(v, schema[k], p)


def _get(d, path, default=None):
    cur = d
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            return default
        cur = cur[part]
    return cur


def _int(d, path, default, lo=None, allow_none=False):
    v = _get(d, path, default)
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or (lo is not None and v < lo):
        raise SpecError(f"{path}: must be an integer >= {lo}, got {v!r}")
    return v


def _num(d, path, default, positive=True, allow_none=False):
    v = _get(d, path, default)
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and not v > 0):
        raise SpecError(f"{path}: must be a {'positive ' if positive else ''}number, got {v!r}")
    return float(v)


def _bool(d, path, default) -> bool:
    v = _get(d, path, default)
    if not isinstance(v, bool):
        raise SpecError(f"{path}: must be true or false, got {v!r}")
    return v


def _weights(d, path, registry, kind) -> dict:
    """A mapping from names in ``registry`` to finite numbers >= 0."""
    w = _get(d, path, {})
    if not isinstance(w, dict):
        raise SpecError(f"{path}: must map {kind} names to numbers >= 0, got {w!r}")
    for k, v in w.items():
        if k not in registry:
            raise SpecError(f"{path}.{k}: unknown {kind} (expected some of: {', '.join(registry)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
            raise SpecError(f"{path}.{k}: must be a number >= 0, got {v!r}")
    return dict(w)


def _choice(d, path, default, registry):
    v = _get(d, path, default)
    if v not in registry:
        raise SpecError(f"{path}: unknown value {v!r} (expected one of: {', '.join(registry)})")
    return v


def parse_spec(text: str, where: str = "spec") -> RunSpec:
    """A RunSpec from YAML text (``where`` names it in errors)."""
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        raise SpecError(f"{where}: not valid YAML" + (f" (line {line + 1})" if line is not None else "")) from None
    return spec_from_dict({} if d is None else d, where, text)


def spec_from_dict(d: dict, where: str = "spec", text: str | None = None) -> RunSpec:
    """A RunSpec from a mapping shaped like the YAML; ``text`` is the source
    copied into the run directory (default: ``d`` written as YAML)."""
    _check_keys(d, _SCHEMA)
    if text is None:
        try:
            text = yaml.safe_dump(d, sort_keys=False)
        except yaml.YAMLError:
            raise SpecError(f"{where}: holds values YAML cannot write (use numbers, strings, lists and mappings)") from None
    try:
        return _build(d, text)
    except SpecError as e:
        raise SpecError(f"{where}: {e}") from None


def _build(d: dict, text: str) -> RunSpec:
    fn = _get(d, "target.function")
    if not isinstance(fn, str):
        raise SpecError(f"target.function: required, a function name or an expression in x, got {fn!r}")
    try:
        Target(fn)
    except TargetError as e:
        raise SpecError(f"target.function: {e}") from None
    fmt = _choice(d, "target.format", "real", FORMATS)
    compute = _get(d, "target.compute", None)
    if compute is not None and compute != fmt:
        mixed = [n for n in FORMATS if FORMATS[n].compute and n.startswith(f"{fmt}@")]
        if f"{fmt}@{compute}" not in FORMATS:
            raise SpecError(f"target.compute: {fmt} results can be computed in "
                            f"{', '.join(FORMATS[n].compute for n in mixed) or 'nothing but ' + fmt}, not {compute!r}")
        fmt = f"{fmt}@{compute}"
    iv = _get(d, "target.interval")
    whole = iv == "whole"
    if whole:
        try:
            iv = list(whole_domain(fn, FORMATS[fmt]))
        except ValueError as e:
            raise SpecError(f"target.interval: whole: {e}") from None
    if (not isinstance(iv, list) or len(iv) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in iv)
            or not iv[0] < iv[1]):
        raise SpecError(f"target.interval: must be [lo, hi] with lo < hi, or whole, got {iv!r}")
    metric = _choice(d, "target.metric", "relative", METRICS)

    ops = _get(d, "search.ops", ["add", "sub", "mul", "div"])
    if not isinstance(ops, list) or not ops:
        raise SpecError(f"search.ops: must be a non-empty list of ops, got {ops!r}")
    for o in ops:
        if o not in OPS:
            raise SpecError(f"search.ops: unknown op {o!r} (expected some of: {', '.join(OPS)})")
    mweights = _weights(d, "search.mutations", MUTATIONS, "mutation")
    init = _choice(d, "search.init", "empty", INITS)
    hashing = _bool(d, "search.hashing", True)
    search = SearchConfig(
        ops=tuple(ops), max_ops=_int(d, "search.max_ops", 12, 1), population=_int(d, "search.population", 64, 2),
        islands=_int(d, "search.islands", 4, 1), migrate_every=_int(d, "search.migrate_every", 400, 1),
        restart_after=_int(d, "search.restart_after", 3000, 0),
        init=init, init_ops=_int(d, "search.init_ops", 3, 1), selector=_choice(d, "search.selector", "nsga2", SELECTORS),
        hashing=hashing, dedup_retries=_int(d, "search.dedup_retries", 20, 1), mutation_weights=dict(mweights))

    weights = _weights(d, "cost.weights", OPS, "op")
    fit = FitConfig(starts=_int(d, "fitting.starts", FitConfig.starts, 1),
                    lm_iters=_int(d, "fitting.lm_iters", FitConfig.lm_iters, 0),
                    lawson_iters=_int(d, "fitting.lawson_iters", FitConfig.lawson_iters, 0),
                    slp_iters=_int(d, "fitting.slp_iters", FitConfig.slp_iters, 0),
                    perturb=_num(d, "fitting.perturb", FitConfig.perturb),
                    round_evals=_int(d, "fitting.round_evals", FitConfig.round_evals, 0))
    task = Task(target=fn, lo=float(iv[0]), hi=float(iv[1]), format=fmt, metric=metric,
                cost_model=_choice(d, "cost.model", "ops", COST_MODELS),
                cost_weights=tuple(sorted((k, float(v)) for k, v in weights.items())),
                fit_points=_int(d, "evaluation.fit_points", 256, 8),
                score_points=_int(d, "evaluation.score_points", 1024, 8),
                verify_points=_int(d, "evaluation.verify_points", 20000, 8),
                binades=_bool(d, "evaluation.binades", whole), whole=whole)

    stop = _get(d, "budget.stop_when", {})
    if not isinstance(stop, dict):
        raise SpecError(f"budget.stop_when: must map a cost to an error, e.g. {{5: 1.0e-5}}, got {stop!r}")
    stop_when = []
    for k, v in stop.items():
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            raise SpecError(f"budget.stop_when.{k}: the key must be a cost (a number)")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise SpecError(f"budget.stop_when.{k}: must be a positive error, got {v!r}")
        stop_when.append((float(k), float(v)))
    budget = Budget(seconds=_num(d, "budget.seconds", 300),
                    evaluations=_int(d, "budget.evaluations", None, 1, allow_none=True),
                    stop_when=tuple(sorted(stop_when)))
    error_target = _num(d, "target.error", None, allow_none=True)
    speed = _speed(d, fmt, error_target)
    name = _get(d, "name", "run")
    if not isinstance(name, str):
        raise SpecError(f"name: must be a string, got {name!r}")
    return RunSpec(name=name, task=task, search=search, budget=budget, fit=fit,
                   batch=_int(d, "search.batch", 8, 1), workers=_int(d, "workers", 2, 0),
                   seed=_int(d, "seed", 0, 0), error_target=error_target, speed=speed, source=text)


def _speed(d: dict, fmt: str, error_target: float | None) -> SpeedConfig:
    """The ``speed`` section: timing needs a hardware format and target.error."""
    D = SpeedConfig
    cfg = SpeedConfig(time=_bool(d, "speed.time", D.time), exporter=_choice(d, "speed.exporter", D.exporter, TIMED_EXPORTERS),
                      n=_int(d, "speed.n", D.n, 1), steps=_int(d, "speed.steps", D.steps, 1),
                      timings=_int(d, "speed.timings", D.timings, 1),
                      measurements=_int(d, "speed.measurements", D.measurements, 1),
                      max_timed=_int(d, "speed.max_timed", D.max_timed, 0),
                      max_fraction=_num(d, "speed.max_fraction", D.max_fraction),
                      verify=_int(d, "speed.verify", D.verify, 0))
    if cfg.time:
        f = FORMATS[fmt]
        if f.is_real or f.precision > 24:
            raise SpecError(f"speed.time: timing ranks programs of hardware formats (float32 and narrower), not {fmt}")
        if error_target is None:
            raise SpecError("speed.time: needs target.error (timing ranks the programs that meet it)")
    return cfg


def load_spec(path: str | Path) -> RunSpec:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise SpecError(f"{path}: cannot read ({e.strerror})") from None
    return parse_spec(text, str(path))


def override(spec: RunSpec, **kw) -> RunSpec:
    return replace(spec, **{k: v for k, v in kw.items() if v is not None})
