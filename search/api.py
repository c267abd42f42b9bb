"""The Python API: run a search, load a front, pick, export, verify, tabulate.

Everything the ``numsearch`` command does is a call here; the CLI only parses
flags and prints.  Bad input raises ``UserError`` with a one-line message.

    import numsearch
    front = numsearch.run({"target": {"function": "exp2", "interval": [0, 1]},
                           "search": {"max_ops": 6}, "budget": {"seconds": 20}}, workers=0)
    print(front.table())
    code = front.export("c", pick="cost=5")
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from ..primitives.program import Program, ProgramError, parse_program

from .errors import UserError
from .examples import examples
from .show import show
from .spec import RunSpec, SpecError, load_spec, parse_spec, spec_from_dict

_RUN_FILES = ("checkpoint.json", "front.json", "run.json", "log.txt")


def spec(source: RunSpec | Mapping | str | Path) -> RunSpec:
    """A validated RunSpec from a RunSpec, a dict shaped like the YAML, a path
    to a YAML file (a ``Path``, or a string naming an existing file or ending
    in .yaml/.yml), the name of an installed example (``exp2_quick``, see
    ``examples``), or YAML text (any other string)."""
    if isinstance(source, RunSpec):
        return source
    if isinstance(source, Mapping):
        return spec_from_dict(dict(source))
    if isinstance(source, Path):
        return load_spec(source)
    if isinstance(source, str):
        if "\n" not in source and (source.endswith((".yaml", ".yml")) or Path(source).is_file()):
            return load_spec(source)
        if "\n" not in source and ":" not in source:
            ex = examples().get(source.strip())
            if ex is None:
                raise UserError(f"spec: {source!r} is no file and no example (numsearch examples lists them)")
            return load_spec(ex.spec)
        return parse_spec(source, "spec text")
    raise UserError(f"spec: expected a dict, YAML text or a path, got {type(source).__name__}")


def run(source: RunSpec | Mapping | str | Path, out: str | Path | None = None, *, workers: int | None = None,
        seed: int | None = None, seconds: float | None = None, address: str | None = None,
        progress: Callable[[str], None] | None = None, resume: bool = False, force: bool = False,
        command: str = "") -> "Front":
    """Run a search to its budget and return its front.

    ``out``: the run directory to write (spec copy, checkpoints, log,
    front.json); None keeps everything in memory.  ``workers``, ``seed``,
    ``seconds`` override the spec; ``workers=0`` evaluates in this process
    without Ray; ``address`` joins a Ray cluster (``"auto"``).  ``progress``
    receives each progress line (default: silent).  ``resume`` continues the
    run in ``out`` from its checkpoint; ``force`` overwrites a run there.
    Ctrl-C (KeyboardInterrupt) stops the run with a consistent run directory
    and is raised again."""
    from . import checkpoint
    from .backend import make_backend
    from .driver import run_search
    from .speedcache import speed_cache

    s = spec(source)
    s = replace(s, workers=s.workers if workers is None else _count("workers", workers),
                seed=s.seed if seed is None else _count("seed", seed))
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 1e8:
            raise UserError(f"seconds: must be a number > 0 and at most 1e8 (about three years), got {show(seconds)}")
        s = replace(s, budget=replace(s.budget, seconds=float(seconds)))
    if address is not None and (not isinstance(address, str) or not address.strip()):
        raise UserError(f"address: must be a Ray address (auto or HOST:PORT), got {show(address)}")
    if s.workers > 0 and not address:
        from .ray_driver import check_workers
        check_workers(s.workers, "this machine")
    _check_grids(s)
    out_dir = None if out is None else Path(out)
    if out_dir is None and resume:
        raise UserError("resume: needs the run directory (out) to resume from")
    lock = state = None
    if out_dir is not None:
        lock = _prepare_run_dir(out_dir, resume, force)
    try:
        if resume:
            state = checkpoint.load(out_dir, s)
        backend = make_backend(s, address)
        try:
            speeds = speed_cache(s)
            stats, search = run_search(s, backend, out_dir, echo=progress or (lambda line: None), resume=resume,
                                       command=command, speeds=speeds, state=state)
        except BaseException:
            backend.close()   # a stop before the run loop (grids, baselines): Ray down now, not at exit
            raise
    finally:
        if lock is not None:
            lock.release()
    if stats.status == "interrupted":
        raise KeyboardInterrupt
    if out_dir is not None:
        return load_front(out_dir)
    from ..evaluators.task import TaskData
    from .classical import run_baselines
    from .rundir import front_document
    vdata = TaskData(s.task).verify
    return Front(front_document(s, search.archive.front(), vdata, stats.asdict(), speeds, run_baselines(s, vdata)))


def _num_or(v, default: float) -> float:
    """A recorded number (front.json writes inf as "inf"), or ``default`` when absent."""
    return default if v is None else float(v)


def _count(name: str, v) -> int:
    """A workers or seed override: an integer >= 0 within ``limits.LIMITS``."""
    from .limits import limit

    top, why = limit(name)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
        raise UserError(f"{name}: must be >= 0, an integer of at most {top:g} ({why}), got {show(v)}")
    return v


def _check_grids(s: RunSpec) -> None:
    """The target is finite on the grids the run will score (a pole the spec's probe missed)."""
    from ..evaluators.targetcheck import check_grids
    from ..evaluators.targets import TargetError
    from ..evaluators.task import TaskData

    try:
        check_grids(TaskData(s.task))
    except TargetError as e:
        raise UserError(f"target.function: {e}") from None


def _prepare_run_dir(out: Path, resume: bool, force: bool):
    """Create and lock the run directory (a ``RunLock``), refusing to overwrite a run."""
    from .lock import RunLock

    if out.exists() and not out.is_dir():
        raise UserError(f"out: {out} exists and is not a directory")
    if resume and not out.is_dir():
        raise UserError(f"resume: {out} does not exist (no run to resume there; run without --resume)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as e:
        raise UserError(f"out: cannot create {show(str(out), 120)} ({getattr(e, 'strerror', None) or e})") from None
    lock = RunLock(out)
    try:
        if (out / "checkpoint.json").exists() and not resume and not force:
            raise UserError(f"out: {out} already holds a run (resume, --resume, continues it; force, --force, "
                            f"overwrites it)")
        if force and not resume:
            for f in _RUN_FILES:
                (out / f).unlink(missing_ok=True)
    except BaseException:
        lock.release()
        raise
    return lock


# ------------------------------------------------------------------ fronts
@dataclass(frozen=True)
class Entry:
    """One program of a front, as front.json records it (``id`` None: the
    front.json's ``fastest`` program, not on the front itself)."""
    id: int | None
    cost: float
    ops: int
    error: float                  # the run's metric, max over the dense grid (inf if not finite)
    program: Program
    max_ulp: float | None = None
    ulp_format: str | None = None
    record: Mapping[str, Any] | None = None  # the entry as front.json holds it (every field)

    @property
    def text(self) -> str:
        return self.program.text()

    @property
    def name(self) -> str:
        """How the CLI names it: ``id 3``, or the fastest program off the front."""
        return f"id {self.id}" if self.id is not None else "the fastest timed (not on the front)"


def _num(v) -> float:
    return math.inf if isinstance(v, str) else float(v)


class Front:
    """A run's Pareto front (the front.json document), cheapest first."""

    def __init__(self, doc: Mapping, where: str = "front.json"):
        from .frontschema import validate

        validate(doc if not isinstance(doc, Mapping) else dict(doc), where)
        self.doc = dict(doc)
        self.where = where
        try:
            self.target: str = doc["target"]
            lo, hi = doc["interval"]
            self.interval: tuple[float, float] = (float(lo), float(hi))
            self.format: str = doc["format"]
            self.metric: str = doc["metric"]
            self.entries: list[Entry] = [self._entry(r) for r in doc["front"]]
        except (KeyError, TypeError, ValueError, ProgramError) as e:
            raise UserError(f"{where}: not a numsearch front ({type(e).__name__}: {e})"[:300]) from None

    @staticmethod
    def _entry(r: Mapping) -> Entry:
        ulp = r.get("max_ulp")
        return Entry(None if r["id"] is None else int(r["id"]), float(r["cost"]), int(r["ops"]), _num(r["error"]), parse_program(r["program"]),
                     None if ulp is None else _num(ulp), r.get("ulp_format"), dict(r))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __repr__(self) -> str:
        pts = "  ".join(f"{e.cost:g}:{e.error:.2e}" for e in self.entries)
        return f"<Front {self.describe()}: {pts}>"

    def describe(self) -> str:
        lo, hi = self.interval
        return f"{self.target} on [{lo:g}, {hi:g}], {self.format}, {self.metric} error"

    @property
    def fastest(self) -> Entry | None:
        """front.json's ``fastest``: the fastest timed program meeting
        ``target.error`` (on the front or not), or None."""
        r = self.doc.get("fastest")
        if r is None:
            return None
        try:
            return self._entry(r)
        except (KeyError, TypeError, ValueError, ProgramError) as e:
            raise UserError(f"{self.where}: fastest: not a front entry ({type(e).__name__}: {e})"[:300]) from None

    def pick(self, how: str = "best") -> Entry:
        """``best``: with the spec's ``target.error``, the fastest measured
        program meeting it (front.json's ``fastest``, from a run with
        ``speed.time``), else the cheapest meeting it on the dense grid and,
        where the run checked it over every value (``exhaustive_error``),
        there too; without one, the lowest error.  ``cost=N`` (best of cost
        <= N) or ``id=K``."""
        if not self.entries:
            raise UserError("the front is empty")
        if how == "best":
            goal = self.doc.get("error_target")
            if goal is not None and self.fastest is not None:
                return self.fastest
            if goal is not None:
                ok = [e for e in self.entries
                      if e.error <= goal and _num_or((e.record or {}).get("exhaustive_error"), e.error) <= goal]
                if ok:
                    return min(ok, key=lambda e: (e.cost, e.error))
            return min(self.entries, key=lambda e: (e.error, e.cost))
        key, _, val = how.partition("=")
        if key not in ("cost", "id") or not val:
            raise UserError(f"pick: expected best, cost=N or id=K, got {how!r}")
        try:
            v = float(val)
        except ValueError:
            raise UserError(f"pick: {key} must be a number, got {val!r}") from None
        if key == "id":
            hit = [e for e in self.entries if e.id == v]
            if not hit:
                raise UserError(f"pick: no program with id {val} (ids: {', '.join(str(e.id) for e in self.entries)})")
            return hit[0]
        ok = [e for e in self.entries if e.cost <= v]
        if not ok:
            raise UserError(f"pick: no program of cost <= {val} (cheapest costs {self.entries[0].cost:g})")
        return min(ok, key=lambda e: (e.error, e.cost))

    @property
    def inputs(self) -> tuple[float, float] | None:
        """The fast export's precondition: the interval, where the run timed its code
        for inputs on the interval alone (``speed.inputs: domain``), else None."""
        return tuple(self.interval) if self.doc.get("timing", {}).get("inputs") == "domain" else None

    def export(self, to: str, pick: str = "best", arith: str = "native", check: bool = False) -> str:
        """The picked program as source code or a formula: ``jax`` (fast),
        ``jax_exact``, ``numpy``, ``c``, ``sympy`` or ``latex`` (any name in
        ``exporters.EXPORTERS``); the program and the measured error of the
        code written open it as a comment.  ``arith="dd"``: double-double code
        for a ``real`` program (C and NumPy), keeping the accuracy the search
        scored, at a cost.  ``check``: for an export that is not bit-exact
        (``jax``), run the exhaustive check of its compiled function now
        (float32 and narrower) and write its figure into the header."""
        return self.export_with_error(to, pick, arith, check)[0]

    def export_with_error(self, to: str, pick: str = "best", arith: str = "native", check: bool = False,
                          progress: Callable[[int, int], None] | None = None) -> tuple[str, object]:
        """(source, max error of that code in the run's metric): as ``export``.
        The error of a fast ``jax`` export is its exhaustive check's (``check``),
        None when not measured."""
        from .export_header import export_header
        from .exporters import EXPORTERS, export, fast_jax

        if to not in EXPORTERS:
            raise UserError(f"to: unknown exporter {to!r} (expected one of: {', '.join(EXPORTERS)})")
        try:
            EXPORTERS[to].check(self.format, arith)
        except ValueError as err:
            raise UserError(f"arith: {arith}: {err}") from None
        if check and EXPORTERS[to].exact:
            raise UserError(f"check: the {to} export is bit-exact with the program, its figure is the front's "
                            f"(check is for {', '.join(n for n, x in EXPORTERS.items() if not x.exact)})")
        e = self.pick(pick)
        head, code_error = export_header(self.doc, e.record, to, arith)
        opts = {"inputs": self.inputs} if fast_jax(to) and self.inputs is not None else {}
        try:
            src = export(e.program, self.format, to, head, arith=arith, **opts)
        except ValueError as err:     # an op this exporter cannot write
            raise UserError(f"{'arith: ' + arith if arith != 'native' else 'to: ' + to}: {err}") from None
        if EXPORTERS[to].exact:
            return src, code_error
        if not check:
            return src, None
        res = self._check_exported(e, to, progress, "check")
        measured = (f"max {res.max_ulp:.4g} ulp ({res.ulp_format}), mean {res.mean_ulp:.3g}, over all {res.points} "
                    f"{self.format} values of [{self.interval[0]!r}, {self.interval[1]!r}] (float64 reference; "
                    f"worst at x = {res.x_max_ulp!r}); {_xla()}")
        code_error = {"ulp": res.max_ulp, "relative": res.max_rel, "absolute": res.max_abs}.get(self.metric)
        return export(e.program, self.format, to, head, arith=arith, measured=measured, **opts), code_error

    def _check_exported(self, e: "Entry", to: str, progress=None, flag: str = "exported"):
        from ..evaluators.verify import exhaustive_possible
        from .exported import check_exported

        if not exhaustive_possible(self.format):
            raise UserError(f"{flag}: the exhaustive check of compiled code is for float32 and narrower formats, "
                            f"not {self.format}")
        lo, hi = self.interval
        return check_exported(e.program, self.target, lo, hi, self.format, to=to, progress=progress,
                              inputs=self.inputs)

    def arithmetic(self, to: str, arith: str = "native") -> str:
        """In words, the arithmetic of the code ``export(to, arith=arith)`` writes."""
        from .exporters import EXPORTERS

        if EXPORTERS[to].formula:
            return "exact formula"
        return "double-double" if arith == "dd" else self.format if self.format != "real" else "float64"

    def verify(self, pick: str = "best", exhaustive: bool | None = None, samples: int = 20000,
               progress: Callable[[int, int], None] | None = None, as_format: str | None = None,
               exported: str | None = None):
        """Re-check the picked program's error (a ``VerifyResult``): over every
        value of the interval (``exhaustive``; the default for float32 and
        narrower formats) or on ``samples`` points against mpmath.
        ``as_format``: sample the program evaluated in another format (e.g.
        ``"float64"``: the code a ``real`` front exports).  ``exported``:
        ``"fast"`` (the ``jax`` export) or ``"exact"`` (``jax_exact``, bit-exact):
        check that export's compiled function itself, on every value of the
        interval (float32 and narrower)."""
        from ..evaluators.verify import exhaustive_possible, sampled_check, ulp_check
        from .exported import EXPORTED

        e = self.pick(pick)
        lo, hi = self.interval
        if exported is not None:
            if exported not in EXPORTED:
                raise UserError(f"exported: expected one of {', '.join(EXPORTED)}, got {exported!r}")
            return self._check_exported(e, EXPORTED[exported], progress)
        if as_format is not None:
            return sampled_check(e.text, self.target, lo, hi, as_format, samples=samples)
        narrow = exhaustive_possible(self.format)
        if exhaustive is None:
            exhaustive = narrow
        if exhaustive and not narrow:
            raise UserError(f"verify: an exhaustive check of a {self.format} program is out of reach; sample it")
        if exhaustive:
            return ulp_check(e.text, self.target, lo, hi, self.format, exhaustive=True, progress=progress,
                             processes=len(os.sched_getaffinity(0)))   # a large float32 check: every core
        return sampled_check(e.text, self.target, lo, hi, self.format, samples=samples)

    def baselines(self, max_cost: float | None = None) -> list:
        """numsearch's classical approximations of the same task, cost <= max_cost
        (default: the front's largest cost), scored on the same grid."""
        from . import pareto
        return pareto.baselines_for(self.doc, max_cost)

    def pareto(self, baselines: bool = True) -> list:
        """The pareto table as data: one ``pareto.Row`` per program, with the
        best baseline at cost <= its own and the gain over it."""
        from . import pareto
        return pareto.rows(self.doc, self.baselines() if baselines else [])

    def table(self, baselines: bool = True) -> str:
        """The pareto table as text (what ``numsearch pareto`` prints)."""
        from . import pareto
        return pareto.table(self.doc, self.pareto(baselines))


def _xla() -> str:
    """Where JAX code runs here, in words."""
    import jax

    d = jax.devices()[0]
    return f"XLA on {d.platform} ({getattr(d, 'device_kind', '')}), jax {jax.__version__}"


def load_front(path: str | Path) -> Front:
    """The front of a run directory or a front.json file."""
    from .yamlload import read_text

    p = Path(path)
    try:
        f = p / "front.json" if p.is_dir() else p
        exists = p.exists()
    except (OSError, ValueError):
        raise UserError(f"{show(str(path), 120)}: not a usable path") from None
    if not exists:
        raise UserError(f"{path}: no such run directory or front.json")
    if not f.exists():
        raise UserError(f"{path}: has no front.json (is the run still starting?)")
    try:
        doc = json.loads(read_text(f, "front.json", limit=64 << 20))
    except (json.JSONDecodeError, RecursionError, ValueError) as e:
        if isinstance(e, UserError):
            raise
        raise UserError(f"{path}: front.json is not valid JSON") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: not a numsearch front (a JSON object is expected)")
    return Front(doc, str(f))


__all__ = ["Entry", "Front", "RunSpec", "SpecError", "UserError", "examples", "load_front", "run", "spec"]
