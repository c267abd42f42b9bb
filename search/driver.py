"""The run loop: ask/tell against an evaluation backend, with budget, progress
lines, periodic checkpoints and the final front.json.

The backend (``backend.Backend``: in process or Ray actors) and the budget
(``termination.Budget``) are given; this module only runs the loop.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..evaluators.task import TaskData

from . import checkpoint, signals
from .engine import Search
from .errors import UserError
from .fhash import probe_points
from .init import INITS
from .classical import run_baselines, seeds_with
from .rundir import atomic_write, front_document, machine, versions, write_json
from .show import one_line
from .speedcache import speed_cache


@dataclass
class RunStats:
    seconds: float
    evaluations: int
    evals_per_second: float
    hash_saved: int
    hash_saved_fraction: float
    status: str
    timing: dict | None = None      # SpeedCache.counts() when the run times candidates
    faults: dict | None = None      # the backend's fault counts (actors lost, batches redone)

    def asdict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("timing", "faults")}
        return {**d, **(self.timing or {}), **(self.faults or {})}


def format_front(pairs) -> str:
    return "  ".join(f"{c:g}:{e:.2e}" for c, e in pairs)


def run_search(spec, backend, out: Path | None = None, echo=print, progress_every: float = 5.0,
               checkpoint_every: float | None = None, resume: bool = False, command: str = "",
               search_cls=Search, observer=None, speeds=None, state: dict | None = None):
    """Run ``spec`` to its budget; write the run directory ``out`` if given.
    ``observer(elapsed_seconds, search)`` is called after every finished batch.
    With ``spec.speed.time``, each finished batch's results that meet
    ``target.error`` are timed into ``speeds`` (a ``SpeedCache``; default
    ``speed_cache(spec)``), which the checkpoint keeps.  A checkpoint is
    written at the start and every ``checkpoint_every`` seconds (default the
    spec's); ``resume`` continues from ``state`` (default: ``out``'s checkpoint,
    checked by ``checkpoint.load``).  A crash is recorded in the run directory
    (status ``crashed: ...``, the traceback in log.txt) and raised again.
    Returns (RunStats, Search)."""
    if checkpoint_every is None:
        checkpoint_every = spec.checkpoint_every
    task = spec.task
    data = TaskData(task)
    vdata = data.verify if out is not None else None
    classical = run_baselines(spec, vdata)
    seeds = seeds_with(INITS[spec.search.init].seeds(task, spec.search.max_ops, echo), classical)
    search = search_cls(spec.search, probe_points(task.lo, task.hi), task.hash_format, np.random.default_rng(spec.seed),
                        seeds, hash_ops=task.hash_ops)
    if speeds is None:
        speeds = speed_cache(spec)
    prior_seconds = 0.0
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        ck = out / checkpoint.NAME
        if resume:
            st = state if state is not None else checkpoint.load(out, spec)
            try:
                search.restore(st["search"])
                prior_seconds = float(st.get("seconds", 0.0))
                if speeds is not None and "speed" in st:
                    speeds.restore(st["speed"])
            except Exception as e:   # a checkpoint edited or damaged inside valid JSON
                raise UserError(f"resume: {ck}: damaged ({type(e).__name__}: {one_line(str(e), 80)}); "
                                f"start again with --force") from None
            echo(f"resumed from {ck}: {search.evaluated} evaluations, {prior_seconds:.0f}s")
        atomic_write(out / "spec.yaml", spec.source)
    log = open(out / "log.txt", "a") if out is not None else None

    def line(s: str) -> None:
        echo(s)
        if log:
            log.write(s + "\n")
            log.flush()

    t0 = time.monotonic()
    elapsed = lambda: prior_seconds + time.monotonic() - t0
    status = "running"

    inflight: dict[int, list] = {}       # batch number -> its children, until told
    batches = iter(range(1 << 62))

    def submit(kids, island) -> None:
        n = next(batches)
        inflight[n] = kids
        backend.submit(kids, (island, n), search.bests())

    def faults() -> dict | None:
        f = getattr(backend, "faults", None)
        return dict(f) if f and any(f.values()) else None

    def stats() -> RunStats:
        el = elapsed()
        return RunStats(round(el, 2), search.evaluated, round(search.evaluated / max(el, 1e-9), 2),
                        search.duplicates, round(search.saved_fraction, 4), status,
                        None if speeds is None else speeds.counts(), faults())

    def save() -> None:
        if out is None:
            return
        st = stats().asdict()
        prov = {"command": command, "seed": spec.seed, "workers": spec.workers, "budget": spec.budget.__dict__,
                "machine": machine(), "versions": versions()}
        pending = [p for kids in inflight.values() for p in kids]
        ck = {"seconds": elapsed(), "fingerprint": checkpoint.fingerprint(spec), "search": search.state(pending),
              **({} if speeds is None else {"speed": speeds.state()})}
        doc = front_document(spec, search.archive.front(), vdata, {**st, **prov}, speeds, classical)
        if not (out / "front.json").exists():
            write_json(out / "front.json", doc)   # the first save: a checkpoint never stands without a front
        # then the checkpoint before the front: the front.json on disk never holds what the checkpoint lacks
        write_json(out / checkpoint.NAME, ck)
        write_json(out / "front.json", doc)
        write_json(out / "run.json", {"name": spec.name, "task": task.describe(), **prov, **st})

    line(f"numsearch: {spec.name}: {task.describe()}; ops {', '.join(spec.search.ops)}; "
         f"max_ops {spec.search.max_ops}; budget {spec.budget.seconds:g}s"
         + ("" if speeds is None else f"; timing the {spec.speed.exporter} export of programs with error <= "
                                      f"{spec.error_target:g}"))
    if classical:
        line(f"{len(classical)} classical approximations take part (search.baselines): sown now, and front.json "
             f"keeps at each cost the better of the search's program and theirs")
    timed = lambda: "" if speeds is None else "  " + speeds.summary()
    last_p = last_c = time.monotonic()
    b = spec.budget
    crash = None
    reported_faults = None
    try:
        save()     # at once: a run stopped before its first interval checkpoint resumes from here
        while backend.pending() < backend.slots:
            kids, island = search.ask(spec.batch)
            if not kids:
                break
            submit(kids, island)
        while backend.pending():
            (island, n), results = backend.next_done()
            inflight.pop(n, None)
            search.tell(results, island)
            if speeds is not None:
                speeds.tell(results, elapsed)
            if observer is not None:
                observer(elapsed(), search)
            status = b.status(elapsed(), search) or status
            if status != "running":
                break
            kids, island = search.ask(spec.batch)
            if kids:
                submit(kids, island)
            if faults() != reported_faults:
                reported_faults = faults()
                line("evaluator faults: " + ", ".join(f"{k} {v}" for k, v in reported_faults.items()))
            now = time.monotonic()
            if now - last_p >= progress_every:
                last_p = now
                s = stats()
                line(f"[{s.seconds:7.1f}s] evals {s.evaluations} ({s.evals_per_second:.1f}/s)  "
                     f"hash saved {s.hash_saved} ({100 * s.hash_saved_fraction:.0f}%){timed()}  "
                     f"best error by cost: {format_front(search.best_by_cost())}")
            if now - last_c >= checkpoint_every:
                last_c = now
                save()
        if status == "running":
            status = "finished: search exhausted"
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as e:
        if signals.interrupted(e):
            status = "interrupted"
        else:
            crash = e
            status = f"crashed: {type(e).__name__}: {one_line(str(e), 200)}"
            if log:
                log.write(traceback.format_exc())
    finally:
        try:
            backend.close()
        except Exception:
            pass
        if speeds is not None and not status.startswith(("interrupted", "crashed")):
            n = speeds.settle(search.archive.front())
            if n:
                line(f"timed {n} program(s) of the front that meet the target and the timing budget had skipped")
            n = speeds.confirm()
            if n:
                line(f"checked the {n} fastest timed program(s) over every value of the interval (speed.verify)")
        try:
            save()
        except Exception:
            if crash is None:
                raise
        s = stats()
        line(f"done ({s.status}) in {s.seconds:.1f}s: {s.evaluations} evaluations ({s.evals_per_second:.1f}/s), "
             f"hash saved {s.hash_saved} evaluations ({100 * s.hash_saved_fraction:.0f}% of proposals)"
             + ("" if speeds is None else f"; {speeds.summary()} in {speeds.seconds:.1f}s"))
        line(f"front: {format_front(search.best_by_cost())}")
        if speeds is not None and speeds.records:
            f = speeds.shipped()
            if f is None:
                line("fastest timed: none passed the exhaustive check (speed.verify)")
            else:
                line(f"fastest timed: cost {f['cost']:g}, error {f['search_error']:.3g}"
                     + (f" ({f['exhaustive_error']:.4g} over every value)" if "exhaustive_error" in f else "")
                     + f", speed ratio {f['ratio']:.3g} [{f['ratio_q25']:.3g}, {f['ratio_q75']:.3g}] "
                     f"({f['exporter']} vs {speeds.setup.get('reference')})")
        if log:
            log.close()
    if crash is not None:
        raise crash
    if status == "interrupted":
        raise KeyboardInterrupt
    return s, search
