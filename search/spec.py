"""The YAML run spec: parsed and validated into a frozen ``RunSpec``.

Every problem is a ``SpecError`` whose message names the key path and the
value (``search.max_ops: must be an integer >= 1, got 'a'``); unknown keys
are errors.  No user text is executed: the target goes through the safe
expression parser of ``evaluators.targets``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..evaluators.accuracy import METRICS
from ..evaluators.cost import COST_MODELS
from ..evaluators.domain import whole_domain
from ..evaluators.targetcheck import check_target
from ..evaluators.targets import Target, TargetError
from ..evaluators.task import Task
from ..primitives.formats import FORMATS
from ..primitives.ops import OPS

from .engine import SearchConfig
from .errors import UserError
from .fitting import FitConfig
from .init import INITS
from .limits import limit
from .mutation import MUTATIONS
from .selection import SELECTORS
from .show import show
from .speedcache import TIMED_EXPORTERS, SpeedConfig
from .termination import Budget
from .yamlload import load_yaml, read_text


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
    checkpoint_every: float = 30.0      # seconds between checkpoints (one is also written at the start)
    source: str = ""             # the YAML text, copied into the run directory


_SCHEMA = {
    "name": None,
    "description": None,
    "target": {"function": None, "interval": None, "format": None, "compute": None, "metric": None, "error": None},
    "search": {"ops": None, "max_ops": None, "population": None, "islands": None, "migrate_every": None, "restart_after": None, "init": None, "init_ops": None,
               "selector": None, "hashing": None, "batch": None, "mutations": None, "dedup_retries": None,
               "baselines": None},
    "budget": {"seconds": None, "evaluations": None, "stop_when": None},
    "cost": {"model": None, "weights": None},
    "evaluation": {"fit_points": None, "score_points": None, "verify_points": None, "binades": None},
    "fitting": {"starts": None, "lm_iters": None, "lawson_iters": None, "slp_iters": None, "perturb": None,
                "round_evals": None},
    "speed": {"time": None, "exporter": None, "n": None, "steps": None, "timings": None, "measurements": None, "verify": None,
              "max_timed": None, "max_fraction": None, "inputs": None},
    "workers": None,
    "seed": None,
    "checkpoint_every": None,
}

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


def _key(k) -> str:
    """A mapping key as a key path shows it (bounded)."""
    return (k if len(k) <= 40 else k[:37] + "...") if isinstance(k, str) else show(k, 40)


def _check_keys(d, schema, path=""):
    if not isinstance(d, dict):
        raise SpecError(f"{path or 'spec'}: must be a mapping, got {show(d)}")
    for k, v in d.items():
        p = f"{path}.{_key(k)}" if path else _key(k)
        if not isinstance(k, str) or k not in schema:
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


def _over(path: str, v) -> None:
    """Refuse a value above the key's limit (``limits.LIMITS``), saying why."""
    lim = limit(path.rsplit(".", 1)[0] if path.startswith(("cost.weights.", "search.mutations.")) else path)
    if lim is not None and v > lim[0]:
        raise SpecError(f"{path}: at most {lim[0]:g} ({lim[1]}), got {show(v)}")


def _int(d, path, default, lo=None, allow_none=False):
    v = _get(d, path, default)
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or (lo is not None and v < lo):
        raise SpecError(f"{path}: must be an integer >= {lo}, got {show(v)}")
    _over(path, v)
    return v


def _num(d, path, default, positive=True, allow_none=False):
    v = _get(d, path, default)
    if v is None and allow_none:
        return None
    if (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
            or (positive and not v > 0)):
        raise SpecError(f"{path}: must be a {'positive ' if positive else ''}number (finite), got {show(v)}")
    _over(path, v)
    return float(v)


def _bool(d, path, default) -> bool:
    v = _get(d, path, default)
    if not isinstance(v, bool):
        raise SpecError(f"{path}: must be true or false, got {show(v)}")
    return v


def _weights(d, path, registry, kind) -> dict:
    """A mapping from names in ``registry`` to finite numbers >= 0."""
    w = _get(d, path, {})
    if not isinstance(w, dict):
        raise SpecError(f"{path}: must map {kind} names to numbers >= 0, got {show(w)}")
    for k, v in w.items():
        if not isinstance(k, str) or k not in registry:
            raise SpecError(f"{path}.{_key(k)}: unknown {kind} (expected some of: {', '.join(registry)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
            raise SpecError(f"{path}.{k}: must be a number >= 0, got {show(v)}")
        _over(f"{path}.{k}", v)
    return dict(w)


def _choice(d, path, default, registry):
    v = _get(d, path, default)
    if not isinstance(v, str) or v not in registry:
        raise SpecError(f"{path}: unknown value {show(v)} (expected one of: {', '.join(registry)})")
    return v


def _name(d) -> str:
    """The run name: a plain file name (it names the run directory out/NAME)."""
    name = _get(d, "name", "run")
    if isinstance(name, bool) or not isinstance(name, (str, int, float)):
        raise SpecError(f"name: must be a string, got {show(name)}")
    name = str(name)
    if not _NAME.fullmatch(name):
        raise SpecError(f"name: must be a plain name of at most 100 letters, digits and . _ + - (it names the "
                        f"run directory out/NAME), got {show(name)}")
    return name


def parse_spec(text: str, where: str = "spec") -> RunSpec:
    """A RunSpec from YAML text (``where`` names it in errors)."""
    try:
        d = load_yaml(text, where)
    except UserError as e:
        raise SpecError(str(e)) from None
    return spec_from_dict({} if d is None else d, where, text)


def spec_from_dict(d: dict, where: str = "spec", text: str | None = None) -> RunSpec:
    """A RunSpec from a mapping shaped like the YAML; ``text`` is the source
    copied into the run directory (default: ``d`` written as YAML)."""
    try:
        _check_keys(d, _SCHEMA)
    except SpecError as e:
        raise SpecError(f"{where}: {e}") from None
    if text is None:
        try:
            text = yaml.safe_dump(d, sort_keys=False)
        except (yaml.YAMLError, RecursionError, ValueError, TypeError):
            raise SpecError(f"{where}: holds values YAML cannot write (use numbers, strings, lists and mappings)") from None
        if len(text) > (1 << 20):
            raise SpecError(f"{where}: larger than 1 MiB written as YAML; a spec is a few hundred lines")
        try:   # a dict from Python passes the checks YAML text gets (aliases, duplicates cannot arise)
            load_yaml(text, where)
        except UserError as e:
            raise SpecError(str(e)) from None
    try:
        return _build(d, text)
    except SpecError as e:
        raise SpecError(f"{where}: {e}") from None


def _build(d: dict, text: str) -> RunSpec:
    name = _name(d)
    desc = _get(d, "description")
    if desc is not None and not isinstance(desc, str):
        raise SpecError(f"description: must be text, got {show(desc)}")
    fn = _get(d, "target.function")
    if not isinstance(fn, str):
        raise SpecError(f"target.function: required, a function name or an expression in x, got {show(fn)}")
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
        raise SpecError(f"target.interval: must be [lo, hi] with lo < hi, or whole, got {show(iv)}")
    hw = FORMATS[fmt].hardware
    for v in iv:
        if not math.isfinite(v) or abs(v) > hw.max_finite:
            raise SpecError(f"target.interval: bounds must be finite {hw.name} numbers (at most {hw.max_finite:g} in "
                            f"size; interval: whole covers every input where f is finite), got {show(iv)}")
    metric = _choice(d, "target.metric", "relative", METRICS)

    ops = _get(d, "search.ops", ["add", "sub", "mul", "div"])
    if not isinstance(ops, list) or not ops:
        raise SpecError(f"search.ops: must be a non-empty list of ops, got {show(ops)}")
    for o in ops:
        if not isinstance(o, str) or o not in OPS:
            raise SpecError(f"search.ops: unknown op {show(o)} (expected some of: {', '.join(OPS)})")
    if len(set(ops)) != len(ops):
        raise SpecError(f"search.ops: {show(next(o for o in ops if ops.count(o) > 1))} is listed twice")
    mweights = _weights(d, "search.mutations", MUTATIONS, "mutation")
    if mweights and not any(mweights.get(m, 1) > 0 for m in MUTATIONS):
        raise SpecError("search.mutations: every mutation has weight 0; at least one must be > 0")
    init = _choice(d, "search.init", "empty", INITS)
    hashing = _bool(d, "search.hashing", True)
    max_ops = _int(d, "search.max_ops", 12, 1)
    init_ops = _int(d, "search.init_ops", 3, 1)
    if init_ops > max_ops:
        raise SpecError(f"search.init_ops: at most search.max_ops ({max_ops}; longer initial programs are never "
                        f"kept), got {init_ops}")
    population = _int(d, "search.population", 64, 2)
    islands = _int(d, "search.islands", 4, 1)
    if islands > population:
        raise SpecError(f"search.islands: at most search.population ({population}; each island needs a "
                        f"program), got {islands}")
    search = SearchConfig(
        ops=tuple(ops), max_ops=max_ops, population=population,
        islands=islands, migrate_every=_int(d, "search.migrate_every", 400, 1),
        restart_after=_int(d, "search.restart_after", 3000, 0),
        init=init, init_ops=init_ops, selector=_choice(d, "search.selector", "nsga2", SELECTORS),
        hashing=hashing, dedup_retries=_int(d, "search.dedup_retries", 20, 1), mutation_weights=dict(mweights),
        baselines=_bool(d, "search.baselines", True))

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
    try:
        check_target(task)
    except TargetError as e:
        raise SpecError(f"target.{getattr(e, 'key', 'function')}: {e}") from None

    stop = _get(d, "budget.stop_when", {})
    if not isinstance(stop, dict):
        raise SpecError(f"budget.stop_when: must map a cost to an error, e.g. {{5: 1.0e-5}}, got {show(stop)}")
    stop_when = []
    for k, v in stop.items():
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0 <= k < math.inf:
            raise SpecError(f"budget.stop_when.{_key(k)}: the key must be a cost (a finite number >= 0)")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
            raise SpecError(f"budget.stop_when.{k}: must be a finite positive error, got {show(v)}")
        stop_when.append((float(k), float(v)))
    budget = Budget(seconds=_num(d, "budget.seconds", 300),
                    evaluations=_int(d, "budget.evaluations", None, 1, allow_none=True),
                    stop_when=tuple(sorted(stop_when)))
    error_target = _num(d, "target.error", None, allow_none=True)
    speed = _speed(d, fmt, error_target)
    if speed.time:
        task = replace(task, hash_ops=True, beyond=speed.inputs != "domain")
    return RunSpec(name=name, task=task, search=search, budget=budget, fit=fit,
                   batch=_int(d, "search.batch", 8, 1), workers=_int(d, "workers", 2, 0),
                   seed=_int(d, "seed", 0, 0), error_target=error_target, speed=speed, source=text,
                   checkpoint_every=_num(d, "checkpoint_every", 30.0))


def _speed(d: dict, fmt: str, error_target: float | None) -> SpeedConfig:
    """The ``speed`` section: timing needs a hardware format and target.error."""
    D = SpeedConfig
    cfg = SpeedConfig(time=_bool(d, "speed.time", D.time), exporter=_choice(d, "speed.exporter", D.exporter, TIMED_EXPORTERS),
                      n=_int(d, "speed.n", D.n, 1), steps=_int(d, "speed.steps", D.steps, 1),
                      timings=_int(d, "speed.timings", D.timings, 1),
                      measurements=_int(d, "speed.measurements", D.measurements, 1),
                      max_timed=_int(d, "speed.max_timed", D.max_timed, 0),
                      max_fraction=_num(d, "speed.max_fraction", D.max_fraction),
                      verify=_int(d, "speed.verify", D.verify, 0),
                      inputs=_choice(d, "speed.inputs", D.inputs, ("all", "domain")))
    if cfg.inputs != "all" and not cfg.time:
        raise SpecError("speed.inputs: the promise about inputs is for timed runs (speed.time: true)")
    if cfg.time:
        f = FORMATS[fmt]
        if f.is_real or f.precision > 24:
            raise SpecError(f"speed.time: timing ranks programs of hardware formats (float32 and narrower), not {fmt}")
        if error_target is None:
            raise SpecError("speed.time: needs target.error (timing ranks the programs that meet it)")
    return cfg


def load_spec(path: str | Path) -> RunSpec:
    try:
        text = read_text(path, "spec")
    except UserError as e:
        raise SpecError(str(e)) from None
    return parse_spec(text, str(path))


def override(spec: RunSpec, **kw) -> RunSpec:
    return replace(spec, **{k: v for k, v in kw.items() if v is not None})
