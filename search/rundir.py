"""The run directory: every file is written atomically (temp file + rename),
so a directory is consistent whenever a run stops.

    spec.yaml        the spec as given
    run.json         seed, versions, command, task, progress counters, status
    front.json       the Pareto front (the stable interface; see README)
    checkpoint.json  population, archive, seen hashes, RNG state (for --resume)
    log.txt          the progress lines
"""
from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..evaluators.accuracy import METRICS, pointwise_error
from ..primitives.formats import FORMATS
from ..primitives.kernels import evaluate

FRONT_VERSION = 1


def atomic_write(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj) -> None:
    atomic_write(path, json.dumps(obj, indent=1, default=_jsonable) + "\n")


def _jsonable(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON-serialisable: {type(o)}")


def _num(v: float):
    """JSON has no inf: write it as a string."""
    return v if np.isfinite(v) else "inf"


def versions() -> dict:
    import importlib.metadata as md
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for p in ("numsearch", "numpy", "mpmath", "scipy", "ray", "jax", "sympy"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    return out


def machine() -> dict:
    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "machine": platform.machine(), "cpu": cpu, "system": platform.system()}


def float64_error(program, vdata):
    """front.json's ``error_float64``: the run's metric, max over vdata's grid,
    of the program evaluated in float64 (what the code exporters write for ``real``)."""
    return _num(vdata.error(program, "float64"))


def _scorer(vdata):
    """program -> (error, max ulp) on vdata's dense grid, in the run's format."""
    fmt = FORMATS[vdata.task.format]
    ulp_w = METRICS["ulp"].weight(vdata.ref[0], fmt.hardware)

    def score(program):
        y = evaluate(program, vdata.x, fmt)
        return float(np.max(pointwise_error(y, vdata.ref, vdata.w))), float(np.max(pointwise_error(y, vdata.ref, ulp_w)))
    return score


def _record(i, cost, ops, search_error, program, err, ulp, vdata) -> dict:
    """One program as front.json writes it (``i``: its id)."""
    task = vdata.task
    fmt = FORMATS[task.format]
    rec = {"id": i, "cost": cost, "ops": ops, "error": _num(err)}
    if fmt.is_real:
        rec["error_float64"] = float64_error(program, vdata)
    rec.update({"metric": task.metric, "search_error": _num(search_error), "max_ulp": _num(ulp),
                "ulp_format": fmt.hardware.name, "program": program.text()})
    return rec


def front_records(front, vdata, speeds=None, classical=()) -> list[dict]:
    """front.json entries: each program re-scored on the dense verify grid;
    for ``real`` (scored in double-double) also ``error_float64``, the error of
    the float64 code the exporters write, on the same grid; with ``speeds``
    (a ``SpeedCache``) the speed ratio of each entry that was timed.
    ``classical``: baselines (``evaluators.baselines.Baseline``, scored on
    the same grid) that take part: at each cost the better program is kept,
    a baseline's entry saying which it is (``source``)."""
    score = _scorer(vdata)

    def record(ind, err, ulp):
        rec = _record(0, ind.cost, ind.ops, ind.error, ind.program, err, ulp, vdata)
        timed = None if speeds is None else speeds.get(ind.hash, ind.ops)
        return {**rec, **speeds.fields(timed)} if timed is not None else rec

    merged = merge_classical([record(ind, *score(ind.program)) for ind in front], classical, vdata)
    if speeds is not None:   # a baseline the search scored as it is was timed under its program's text
        timed = {t["program"]: t for t in speeds.records.values()}
        merged = [{**r, **speeds.fields(timed[r["program"]])} if "source" in r and r["program"] in timed else r
                  for r in merged]
    return merged


def baseline_record(b, vdata) -> dict:
    """A baseline (``evaluators.baselines.Baseline``) as a front.json entry (``source`` says which)."""
    _, ulp = _scorer(vdata)(b.program)
    return {**_record(0, b.cost, b.ops, b.error, b.program, b.error, ulp, vdata),
            "source": f"baseline {b.method} {b.size}"}


def merge_classical(records: list[dict], classical, vdata) -> list[dict]:
    """Entries (scored on ``vdata``'s grid) and baselines as one front: at each
    cost the search's program unless a baseline there is better by more than
    ``TIE`` (relative), then by cost each kept only if better than every cheaper
    one by more than ``TIE``; ids renumbered."""
    best: dict = {}
    for r in records:
        best.setdefault(r["cost"], (float(r["error"]), r))   # float("inf") reads the "inf" _num writes
    for b in sorted(classical, key=lambda b: b.error):
        if b.cost not in best or b.error < best[b.cost][0] * (1 - TIE):
            best[b.cost] = (b.error, b)
    out = []
    floor = np.inf
    for cost in sorted(best):
        err, obj = best[cost]
        if not err < floor * (1 - TIE):
            continue  # not better than a cheaper program on the dense grid: not on the front
        floor = err
        rec = obj if isinstance(obj, dict) else baseline_record(obj, vdata)
        out.append({**rec, "id": len(out)})
    return out


TIE = 1e-4   # relative differences of errors on the dense grid below this are ties


def fastest_record(speeds, goal: float, records: list[dict], vdata) -> dict | None:
    """front.json's ``fastest``: the fastest timed program (or a cheaper one
    within ``SPEED_TIE`` of its ratio: ``SpeedCache.shipped``) whose error on
    the dense grid meets ``goal`` and, where the run checks programs over every
    value (``speed.verify``, at its end: the timed export's compiled function),
    whose ``exhaustive_error`` does too;
    as an entry (``id``: its id on the front, or None when it is not on it),
    or None (before the end of such a run, or when no check passed)."""
    from ..primitives.program import parse_program

    score = _scorer(vdata)
    on_front = {r["program"]: r["id"] for r in records}
    scored: dict = {}

    def meets(t: dict) -> bool:
        prog = parse_program(t["program"])
        scored[t["program"]] = (prog, *score(prog))
        return scored[t["program"]][1] <= goal
    t = speeds.shipped(meets)
    if t is None:
        return None
    prog, err, ulp = scored[t["program"]]
    rec = _record(on_front.get(t["program"]), t["cost"], t["ops"], t["search_error"], prog, err, ulp, vdata)
    return {**rec, **speeds.fields(t)}


def front_document(spec, front, vdata, stats: dict, speeds=None, classical=()) -> dict:
    t = spec.task
    records = front_records(front, vdata, speeds, classical)
    doc = {
        "version": FRONT_VERSION,
        "name": spec.name,
        "target": t.target, "interval": [t.lo, t.hi], "format": t.format, "metric": t.metric,
        "cost_model": t.cost_model, "cost_weights": dict(t.cost_weights),
        "ops": list(spec.search.ops),
        "error_target": spec.error_target,
        "verify_points": len(vdata.x), "binades": t.binades, "whole": t.whole,
        **({} if t.beyond else {"beyond": False}),
        "run": stats,
        "front": records,
    }
    if speeds is not None:
        doc["timing"] = {"exporter": speeds.cfg.exporter, **speeds.cfg.options(), "inputs": speeds.cfg.inputs,
                         **speeds.setup}
        doc["fastest"] = fastest_record(speeds, spec.error_target, records, vdata)
    return doc


def load_front(path: str | Path) -> dict:
    """Read front.json from a run directory or a .front.json file."""
    p = Path(path)
    if p.is_dir():
        p = p / "front.json"
    with open(p) as f:
        return json.load(f)
