"""The ``numsearch`` command line.

Errors in user input (a spec, a path, a flag value) print one line naming
what is wrong and exit with status 2; nothing is left half-written.
"""
from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from pathlib import Path

DESCRIPTION = """\
numsearch evolves straight-line programs (+ - * / fma and constants, rounded
in a chosen number format) that approximate a function, and keeps the Pareto
front of error against cost.

verbs:
  run      run a search from a YAML spec and write a run directory
  pareto   show the front of a run (directory or front.json) beside classical baselines
  export   write a program of the front as JAX, NumPy, C, SymPy or LaTeX
  verify   re-check a program's error (exhaustively for float32 and narrower), time it with XLA
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
  numsearch pareto out/exp2 --plot front.png
  numsearch pareto runs/exp2_real.front.json --json
"""

VERIFY_EXAMPLES = """\
examples:
  numsearch verify out/exp2_f32                # float32 or narrower: every value of the interval
  numsearch verify out/exp2 --pick cost=5      # real / float64: 20000 points against mpmath
  numsearch verify out/exp2_f32 --timing       # and XLA time against jnp.exp2 on this machine
"""

EXPORT_EXAMPLES = """\
examples:
  numsearch export out/exp2 --to c -o exp2.c                 # the program the run prefers
  numsearch export out/exp2 --pick cost=5 --to jax -o exp2_5ops.py
  numsearch export runs/exp2_real.front.json --pick id=3 --to latex
  numsearch export runs/exp2_real.front.json --pick cost=12 --to c --arith dd   # double-double C
"""


class UserError(Exception):
    """Bad input: reported as one line, exit status 2."""


def _fail(msg: str) -> int:
    print(f"numsearch: error: {msg}", file=sys.stderr)
    return 2


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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
        backend = SerialBackend(spec.task, spec.seed, spec.fit)
    else:
        from .ray_driver import RayBackend
        backend = RayBackend(spec.task, spec.workers, spec.seed, a.address, spec.fit)
    command = "numsearch " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    signal.signal(signal.SIGTERM, _interrupt)  # kill / batch schedulers: stop cleanly like Ctrl-C
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
    from . import pareto

    doc = _load_front(a.path)
    bases = [] if a.no_baselines else pareto.baselines_for(doc)
    rws = pareto.rows(doc, bases)
    if a.json:
        out = {"target": doc["target"], "interval": doc["interval"], "format": doc["format"],
               "metric": doc["metric"],
               "front": [{k: v for k, v in dict(r.__dict__, gain=r.gain, poly_gain=r.poly_gain).items()
                          if k != "error_float64" or doc["format"] == "real"} for r in rws],
               "baselines": [{"method": b.method, "size": b.size, "ops": b.ops, "cost": b.cost, "error": b.error}
                             for b in bases]}
        print(json.dumps(out, indent=1, default=lambda v: None))
    else:
        print(pareto.table(doc, rws))
    if a.plot:
        try:
            pareto.plot(doc, bases, a.plot)
        except OSError as e:
            raise UserError(f"--plot: cannot write {a.plot} ({e.strerror})") from None
        if not a.json:
            print(f"wrote {a.plot}")
    return 0


def pick(doc: dict, how: str) -> dict:
    """The front entry named by --pick: best | cost=N | id=K."""
    front = doc["front"]
    if not front:
        raise UserError("the front is empty")
    err = lambda r: float("inf") if isinstance(r["error"], str) else r["error"]
    if how == "best":
        target = doc.get("error_target")
        if target is not None:
            ok = [r for r in front if err(r) <= target]
            if ok:
                return min(ok, key=lambda r: (r["cost"], err(r)))
        return min(front, key=lambda r: (err(r), r["cost"]))
    key, _, val = how.partition("=")
    if key not in ("cost", "id") or not val:
        raise UserError(f"--pick: expected best, cost=N or id=K, got {how!r}")
    try:
        v = float(val)
    except ValueError:
        raise UserError(f"--pick: {key} must be a number, got {val!r}") from None
    if key == "id":
        hit = [r for r in front if r["id"] == v]
        if not hit:
            raise UserError(f"--pick: no program with id {val} (ids: {', '.join(str(r['id']) for r in front)})")
        return hit[0]
    ok = [r for r in front if r["cost"] <= v]
    if not ok:
        raise UserError(f"--pick: no program of cost <= {val} (cheapest costs {front[0]['cost']:g})")
    return min(ok, key=lambda r: (err(r), r["cost"]))


def _cmd_export(a) -> int:
    from .export_header import export_header
    from .exporters import EXPORTERS, export
    from ..primitives.program import parse_program

    doc = _load_front(a.path)
    if a.to not in EXPORTERS:
        raise UserError(f"--to: unknown exporter {a.to!r} (expected one of: {', '.join(EXPORTERS)})")
    try:
        EXPORTERS[a.to].check(doc["format"], a.arith)
    except ValueError as e:
        raise UserError(f"--arith {a.arith}: {e}") from None
    r = pick(doc, a.pick)
    prog = parse_program(r["program"])
    head, code_error = export_header(doc, r, a.to, a.arith)
    src = export(prog, doc["format"], a.to, head, arith=a.arith)
    if a.output:
        from .rundir import atomic_write
        try:
            atomic_write(Path(a.output), src)
        except OSError as e:
            raise UserError(f"-o: cannot write {a.output} ({e.strerror})") from None
        arith = ("exact formula" if EXPORTERS[a.to].formula else "double-double" if a.arith == "dd" else
                 "float64" if doc["format"] == "real" else doc["format"])
        print(f"wrote {a.output} ({a.to}, {arith}, program id {r['id']}, cost {r['cost']:g}, error {code_error})")
    else:
        sys.stdout.write(src)
    return 0


def _cmd_verify(a) -> int:
    from ..evaluators.verify import sampled_check, ulp_check

    doc = _load_front(a.path)
    r = pick(doc, a.pick)
    lo, hi = (float(v) for v in doc["interval"])
    fmt = doc["format"]
    narrow = fmt not in ("real", "float64")
    exhaustive = narrow and not a.sampled
    print(f"verify: program id {r['id']} (cost {r['cost']:g}, {r['ops']} ops) of {doc['target']} on "
          f"[{lo:g}, {hi:g}], {fmt}; front.json says max {doc['metric']} error {r['error']}")
    if exhaustive:
        last = [0.0]

        def progress(done, total):
            import time
            if time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                print(f"  {done}/{total} values ({100 * done / total:.0f}%)", flush=True)
        res = ulp_check(r["program"], doc["target"], lo, hi, fmt, exhaustive=True, progress=progress)
        how = f"exhaustive: all {res['points']} {fmt} values in the interval, float64 NumPy reference"
    else:
        res = sampled_check(r["program"], doc["target"], lo, hi, fmt, samples=a.samples)
        how = f"sampled: {res['points']} points, mpmath reference (40 digits)"
    print(f"  {how}")
    if fmt == "real":
        print("  the program in double-double (the interpreter's real, as the search scored it):")
    print(f"  max ulp error   {res['max_ulp']:.4g} ({res['ulp_format']} ulps) at x = {res['x_max_ulp']!r}")
    print(f"  mean ulp error  {res['mean_ulp']:.4g}")
    print(f"  max relative    {res['max_rel']:.4g} at x = {res['x_max_rel']!r}")
    print(f"  max absolute    {res['max_abs']:.4g} at x = {res['x_max_abs']!r}")
    if res.get("nonfinite"):
        print(f"  non-finite outputs: {res['nonfinite']}")
    if "max_ref_diff_ulp" in res:
        print(f"  float64 reference vs mpmath: max {res['max_ref_diff_ulp']:.2g} ulp on random points; "
              f"worst point by mpmath: {res.get('max_ulp_mpmath', float('nan')):.4g} ulp")
    if fmt == "real":  # the code `numsearch export` writes (without --arith dd) computes in float64
        r64 = sampled_check(r["program"], doc["target"], lo, hi, "float64", samples=a.samples)
        print(f"  the float64 code `numsearch export` writes (front.json: error_float64 "
              f"{r.get('error_float64', 'not recorded')}), same points:")
        print(f"  max ulp error   {r64['max_ulp']:.4g} ({r64['ulp_format']} ulps) at x = {r64['x_max_ulp']!r}; "
              f"max relative {r64['max_rel']:.4g}, max absolute {r64['max_abs']:.4g}")
    if a.timing:
        from .timing import time_program
        t = time_program(r["program"], fmt, doc["target"], lo=lo, hi=hi, n=a.n)
        print(f"  XLA timing on {t['device']} ({t['dtype']}, n = {t['n']}, {t['repeats']} interleaved repeats): "
              f"program {t['program_ns']:.3g} ns/element, {t['reference']} {t['reference_ns']:.3g} ns/element, "
              f"ratio {t['ratio']:.3g} ({'faster' if t['ratio'] > 1 else 'slower'} than the reference)")
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
    q = sub.add_parser("pareto", help="show a run's Pareto front beside classical baselines", epilog=PARETO_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("path", help="run directory or front.json file")
    q.add_argument("--json", action="store_true", help="print the front and baselines as JSON")
    q.add_argument("--plot", metavar="FILE.png", help="draw error against cost, with the baselines")
    q.add_argument("--no-baselines", action="store_true", help="skip the classical baselines")
    q.set_defaults(fn=_cmd_pareto)
    e = sub.add_parser("export", help="write a program of the front as code or a formula", epilog=EXPORT_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("path", help="run directory or front.json file")
    e.add_argument("--pick", default="best", help="best (default), cost=N (best of cost <= N) or id=K")
    e.add_argument("--to", required=True, help="jax | numpy | c | sympy | latex")
    e.add_argument("--arith", choices=["native", "dd"], default="native",
                   help="native (default): the run's format, float64 for real programs; dd: double-double "
                        "code for real programs (c, numpy), as accurate as the figure the search scored")
    e.add_argument("-o", "--output", help="write here instead of standard output")
    e.set_defaults(fn=_cmd_export)
    v = sub.add_parser("verify", help="re-check a program's error (exhaustive for narrow formats), XLA timing",
                       epilog=VERIFY_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("path", help="run directory or front.json file")
    v.add_argument("--pick", default="best", help="best (default), cost=N or id=K")
    v.add_argument("--sampled", action="store_true", help="sample even where an exhaustive check is possible")
    v.add_argument("--samples", type=int, default=20000, help="points of a sampled check (default 20000)")
    v.add_argument("--timing", action="store_true", help="also time the JAX export against the target's jax.numpy form")
    v.add_argument("--n", type=int, default=2 ** 22, help="elements per timed call (default 2^22)")
    v.set_defaults(fn=_cmd_verify)
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
