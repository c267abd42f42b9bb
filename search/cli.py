"""The ``numsearch`` command line.

Errors in user input (a spec, a path, a flag value) print one line naming
what is wrong and exit with status 2; nothing is left half-written.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

DESCRIPTION = """\
numsearch evolves straight-line programs (+ - * / fma and constants, rounded
in a chosen number format) that approximate a function, and keeps the Pareto
front of error against cost.

verbs:
  run      run a search from a YAML spec and write a run directory
  pareto   show the front of a run directory or a front.json file
"""

RUN_EXAMPLES = """\
examples:
  numsearch run runs/exp2_quick.yaml --out out/exp2
  numsearch run runs/exp2_quick.yaml --out out/exp2 --workers 4 --seed 1
  numsearch run runs/exp2_quick.yaml --address auto        # join a Ray cluster
  numsearch run runs/exp2_quick.yaml --out out/exp2 --resume  # continue a run
"""

PARETO_EXAMPLES = """\
examples:
  numsearch pareto out/exp2
  numsearch pareto runs/exp2_real.front.json --json
"""


class UserError(Exception):
    """Bad input: reported as one line, exit status 2."""


def _fail(msg: str) -> int:
    print(f"numsearch: error: {msg}", file=sys.stderr)
    return 2


def _cmd_run(a) -> int:
    from .driver import SerialBackend, run_search
    from .spec import SpecError, load_spec, override

    try:
        spec = load_spec(a.spec)
    except SpecError as e:
        raise UserError(str(e)) from None
    if a.workers is not None and a.workers < 0:
        raise UserError(f"--workers: must be >= 0, got {a.workers}")
    if a.seconds is not None and not a.seconds > 0:
        raise UserError(f"--seconds: must be > 0, got {a.seconds}")
    spec = override(spec, workers=a.workers, seed=a.seed)
    if a.seconds is not None:
        from dataclasses import replace
        spec = replace(spec, budget=replace(spec.budget, seconds=a.seconds))
    out = Path(a.out) if a.out else Path("out") / spec.name
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} exists and is not a directory")
    if out.is_dir() and (out / "checkpoint.json").exists() and not a.resume and not a.force:
        raise UserError(f"--out: {out} already holds a run (use --resume to continue it, --force to overwrite)")
    if a.force and not a.resume:
        for f in ("checkpoint.json", "front.json", "run.json", "log.txt"):
            (out / f).unlink(missing_ok=True)
    if spec.workers == 0 and not a.address:
        backend = SerialBackend(spec.task, spec.seed)
    else:
        from .ray_driver import RayBackend
        backend = RayBackend(spec.task, spec.workers, spec.seed, a.address)
    command = "numsearch " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    try:
        run_search(spec, backend, out, echo=lambda s: print(s, flush=True), resume=a.resume,
                   progress_every=a.progress, command=command)
    except KeyboardInterrupt:
        print(f"interrupted: the run directory {out} is consistent (resume with --resume)", file=sys.stderr)
        return 130
    print(f"wrote {out}/front.json")
    return 0


def _load_front(path: str) -> dict:
    from .rundir import load_front
    p = Path(path)
    if not p.exists():
        raise UserError(f"{path}: no such run directory or front.json")
    try:
        return load_front(p)
    except FileNotFoundError:
        raise UserError(f"{path}: has no front.json (is the run still starting?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path}: front.json is not valid JSON") from None


def _cmd_pareto(a) -> int:
    doc = _load_front(a.path)
    if a.json:
        print(json.dumps(doc["front"], indent=1))
        return 0
    print(f"{doc['target']} on [{doc['interval'][0]:g}, {doc['interval'][1]:g}], {doc['format']}, "
          f"{doc['metric']} error (dense grid of {doc.get('verify_points', '?')} points)")
    print(f"{'id':>3} {'cost':>5} {'ops':>4} {'error':>10} {'max ulp':>10}")
    for r in doc["front"]:
        err = r["error"] if isinstance(r["error"], str) else f"{r['error']:.3e}"
        ulp = r.get("max_ulp", "")
        ulp = ulp if isinstance(ulp, str) else f"{ulp:.3g}"
        print(f"{r['id']:>3} {r['cost']:>5g} {r['ops']:>4} {err:>10} {ulp:>10}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="numsearch", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    r = sub.add_parser("run", help="run a search from a YAML spec", epilog=RUN_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("spec", help="the YAML run spec")
    r.add_argument("--out", help="run directory (default out/NAME)")
    r.add_argument("--workers", type=int, help="Ray evaluator actors (0: no Ray, evaluate in process)")
    r.add_argument("--address", help="join this Ray cluster (e.g. auto or HOST:PORT) instead of starting one")
    r.add_argument("--seed", type=int, help="override the spec's seed")
    r.add_argument("--seconds", type=float, help="override the spec's time budget")
    r.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    r.add_argument("--force", action="store_true", help="overwrite a previous run in --out")
    r.add_argument("--progress", type=float, default=5.0, help="seconds between progress lines (default 5)")
    r.set_defaults(fn=_cmd_run)
    q = sub.add_parser("pareto", help="show a run's Pareto front", epilog=PARETO_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("path", help="run directory or front.json file")
    q.add_argument("--json", action="store_true", help="print the front as JSON")
    q.set_defaults(fn=_cmd_pareto)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    if not getattr(a, "verb", None):
        parser.print_help()
        return 0
    try:
        return a.fn(a)
    except UserError as e:
        return _fail(str(e))


if __name__ == "__main__":
    sys.exit(main())
