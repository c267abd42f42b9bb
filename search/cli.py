"""The ``numsearch`` command line.

Errors in user input (a spec, a path, a flag value) print one line naming
what is wrong and exit with status 2; nothing is left half-written.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from . import api, signals
from .errors import UserError
from .show import one_line

DESCRIPTION = """\
numsearch evolves straight-line programs (+ - * / fma and constants, rounded
in a chosen number format) that approximate a function, and keeps the Pareto
front of error against cost.

verbs:
  run      run a search from a YAML spec and write a run directory
  pareto   show the front of a run (directory or front.json) beside classical baselines
  export   write a program of the front as JAX, NumPy, C, SymPy or LaTeX
  verify   re-check a program's error (exhaustively for float32 and narrower), time it with XLA
  examples list the example specs installed with numsearch (run one by name)
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
  numsearch verify out/exp2_f32 --exported fast  # the compiled (fast) jax export itself, every value
"""

EXPORT_EXAMPLES = """\
examples:
  numsearch export out/exp2 --to c -o exp2.c                 # the program the run prefers
  numsearch export out/exp2 --pick cost=5 --to jax -o exp2_5ops.py    # fast JAX, the code a run times
  numsearch export out/exp2_f32 --to jax --check -o exp2_fast.py      # ... with its max ULP measured now
  numsearch export out/exp2_f32 --to jax_exact -o exp2_exact.py       # bit-exact JAX (slow)
  numsearch export runs/exp2_real.front.json --pick id=3 --to latex
  numsearch export runs/exp2_real.front.json --pick cost=12 --to c --arith dd   # double-double C
"""


def _fail(msg: str, status: int = 2) -> int:
    print(f"numsearch: error: {one_line(msg)}", file=sys.stderr)
    return status


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (exit status 2), like every other bad input."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message} (--help explains)")


_FLAGS = ("pick", "to", "out", "workers", "seconds", "seed", "resume", "force", "arith", "check", "exported", "address")


def _as_flag(msg: str) -> str:
    """The API names its parameters (``pick: ...``); the CLI names the flags."""
    name, sep, rest = msg.partition(": ")
    if name == "arith" and sep:             # "arith: dd: why" -> "--arith dd: why"
        value, _, why = rest.partition(": ")
        return f"--arith {value}: {why}"
    return f"--{name}: {rest}" if sep and name in _FLAGS else msg


def _cmd_run(a) -> int:
    named = Path(a.spec).exists() or a.spec.endswith((".yaml", ".yml")) or "/" in a.spec
    spec = api.spec(Path(a.spec) if named else a.spec)   # else an installed example's name
    out = Path(a.out) if a.out else Path("out") / spec.name
    command = "numsearch " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    started = out.is_dir() and (out / "checkpoint.json").exists()
    try:
        api.run(spec, out, workers=a.workers, seed=a.seed, seconds=a.seconds, address=a.address,
                progress=lambda s: print(s, flush=True), resume=a.resume, force=a.force, command=command)
    except KeyboardInterrupt:
        if (out / "checkpoint.json").exists():
            print(f"interrupted: the run directory {out} is consistent (resume with --resume)", file=sys.stderr)
        else:
            print("interrupted before the run started", file=sys.stderr)
        return 130
    except UserError:
        raise
    except Exception as e:
        if (out / "log.txt").exists() and (started or (out / "checkpoint.json").exists()):
            return _fail(f"the run crashed ({type(e).__name__}: {e}); {out}/run.json records it and "
                         f"{out}/log.txt holds the traceback", 1)
        raise
    print(f"wrote {out}/front.json")
    return 0


def _cmd_examples(a) -> int:
    from .examples import examples

    ex = examples()
    if a.name:
        if a.name not in ex:
            raise UserError(f"examples: no example {a.name!r} (known: {', '.join(ex)})")
        sys.stdout.write(ex[a.name].spec.read_text())
        return 0
    width = max(map(len, ex), default=0)
    for e in ex.values():
        print(f"{e.name:<{width}}  {e.describe()}")
        print(f"{'':<{width}}  spec {e.spec}" + (f"\n{'':<{width}}  front {e.front}" if e.front else ""))
    print("\nrun one with: numsearch run NAME --out DIR   (or copy its spec: numsearch examples NAME > my.yaml)")
    return 0


def _cmd_pareto(a) -> int:
    from . import pareto

    front = api.load_front(a.path)
    bases = [] if a.no_baselines else front.baselines()
    rws = pareto.rows(front.doc, bases)
    if a.json:
        doc = front.doc
        out = {"target": doc["target"], "interval": doc["interval"], "format": doc["format"],
               "metric": doc["metric"],
               "front": [{k: v for k, v in dict(r.__dict__, gain=r.gain, poly_gain=r.poly_gain).items()
                          if k != "error_float64" or doc["format"] == "real"} for r in rws],
               "baselines": [{"method": b.method, "size": b.size, "ops": b.ops, "cost": b.cost, "error": b.error}
                             for b in bases]}
        if "fastest" in doc:
            out["fastest"] = doc["fastest"]
        print(json.dumps(out, indent=1, default=lambda v: None))
    else:
        print(pareto.table(front.doc, rws))
    if a.plot:
        try:
            pareto.plot(front.doc, bases, a.plot)
        except OSError as e:
            raise UserError(f"--plot: cannot write {a.plot} ({e.strerror})") from None
        if not a.json:
            print(f"wrote {a.plot}")
    return 0


def _cmd_export(a) -> int:
    front = api.load_front(a.path)
    e = front.pick(a.pick)
    src, code_error = front.export_with_error(a.to, a.pick, a.arith, a.check, _progress())
    if a.output:
        from .rundir import atomic_write
        if Path(a.output).exists() and not a.force:
            raise UserError(f"-o: {a.output} exists (--force overwrites it)")
        if Path(a.output).is_dir():
            raise UserError(f"-o: {a.output} is a directory")
        try:
            atomic_write(Path(a.output), src)
        except OSError as err:
            raise UserError(f"-o: cannot write {a.output} ({err.strerror})") from None
        err = (f"error {code_error}" + (" (exhaustive check of the compiled code)" if a.check else "")
               if code_error is not None else
               "error not measured: not bit-exact with the program, `numsearch verify --exported fast` checks it")
        print(f"wrote {a.output} ({a.to}, {front.arithmetic(a.to, a.arith)}, program {e.name}, cost {e.cost:g}, {err})")
    else:
        sys.stdout.write(src)
    return 0


def _cmd_verify(a) -> int:
    from ..evaluators.verify import exhaustive_possible

    if not 1 <= a.samples <= 10 ** 7:
        raise UserError(f"--samples: must be from 1 to 1e7 (mpmath references at every point), got {a.samples}")
    if not 1 <= a.n <= 1 << 26:
        raise UserError(f"--n: must be from 1 to 2^26 (the timed vector is held in memory), got {a.n}")
    front = api.load_front(a.path)
    e = front.pick(a.pick)
    lo, hi = front.interval
    fmt = front.format
    exhaustive = exhaustive_possible(fmt) and not a.sampled
    print(f"verify: program {e.name} (cost {e.cost:g}, {e.ops} ops) of {front.target} on "
          f"[{lo:g}, {hi:g}], {fmt}; front.json says max {front.metric} error {e.record['error']}")
    progress = _progress()
    if a.exported:
        from .exported import EXPORTED
        res = front.verify(a.pick, progress=progress, exported=a.exported)
        print(f"  exhaustive check of the compiled {EXPORTED[a.exported]} export (its approx, jitted by XLA on this "
              f"machine): all {res.points} {fmt} values in the interval, float64 NumPy reference")
        _print_result(res)
        return 0
    res = front.verify(a.pick, exhaustive=exhaustive, samples=a.samples, progress=progress)
    if exhaustive:
        how = f"exhaustive: all {res.points} {fmt} values in the interval, float64 NumPy reference"
    else:
        how = f"sampled: {res.points} points, mpmath reference (40 digits)"
    print(f"  {how}")
    if fmt == "real":
        print("  the program in double-double (the interpreter's real, as the search scored it):")
    _print_result(res)
    if fmt == "real":  # the code `numsearch export` writes (without --arith dd) computes in float64
        r64 = front.verify(a.pick, samples=a.samples, as_format="float64")
        print(f"  the float64 code `numsearch export` writes (front.json: error_float64 "
              f"{e.record.get('error_float64', 'not recorded')}), same points:")
        print(f"  max ulp error   {r64.max_ulp:.4g} ({r64.ulp_format} ulps) at x = {r64.x_max_ulp!r}; "
              f"max relative {r64.max_rel:.4g}, max absolute {r64.max_abs:.4g}")
    if a.timing:
        from .timing import time_program
        t = time_program(e.text, fmt, front.target, lo=lo, hi=hi, n=a.n)
        print(f"  XLA timing on {t['device']} ({t['dtype']}, n = {t['n']}, {t['repeats']} interleaved repeats): "
              f"program {t['program_ns']:.3g} ns/element, {t['reference']} {t['reference_ns']:.3g} ns/element, "
              f"ratio {t['ratio']:.3g} ({'faster' if t['ratio'] > 1 else 'slower'} than the reference)")
    return 0


def _progress():
    """A progress(done, total) callback printing a line every 5 seconds."""
    import time
    last = [time.monotonic()]

    def progress(done, total):
        if time.monotonic() - last[0] > 5:
            last[0] = time.monotonic()
            print(f"  {done}/{total} values ({100 * done / total:.0f}%)", flush=True)
    return progress


def _print_result(res) -> None:
    print(f"  max ulp error   {res.max_ulp:.4g} ({res.ulp_format} ulps) at x = {res.x_max_ulp!r}")
    print(f"  mean ulp error  {res.mean_ulp:.4g}")
    print(f"  max relative    {res.max_rel:.4g} at x = {res.x_max_rel!r}")
    print(f"  max absolute    {res.max_abs:.4g} at x = {res.x_max_abs!r}")
    if res.nonfinite:
        print(f"  non-finite outputs: {res.nonfinite}")
    if res.flushed:
        print(f"  subnormal inputs flushed to 0 (XLA:CPU), not scored: {res.flushed}")
    rc = res.reference_check
    if rc is not None:
        print(f"  float64 reference vs mpmath: max {rc.max_ref_diff_ulp:.2g} ulp on {rc.points} random points; "
              f"worst point by mpmath: {float('nan') if rc.max_ulp_mpmath is None else rc.max_ulp_mpmath:.4g} ulp")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="numsearch", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    p.add_argument("--version", action="version", version=f"numsearch {__version__}")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    r = sub.add_parser("run", help="run a search from a YAML spec", epilog=RUN_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("spec", help="the YAML run spec, or the name of an installed example (numsearch examples)")
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
    e.add_argument("--to", required=True, help="jax (fast) | jax_exact (bit-exact) | numpy | c | sympy | latex")
    e.add_argument("--arith", choices=["native", "dd"], default="native",
                   help="native (default): the run's format, float64 for real programs; dd: double-double "
                        "code for real programs (c, numpy), as accurate as the figure the search scored")
    e.add_argument("--check", action="store_true",
                   help="jax: check the compiled code on every value of the interval now (float32 and "
                        "narrower) and write its max ULP into the file's header")
    e.add_argument("-o", "--output", help="write here instead of standard output")
    e.add_argument("--force", action="store_true", help="overwrite the -o file if it exists")
    e.set_defaults(fn=_cmd_export)
    x = sub.add_parser("examples", help="list the example specs installed with numsearch, or print one")
    x.add_argument("name", nargs="?", help="print this example's YAML spec")
    x.set_defaults(fn=_cmd_examples)
    v = sub.add_parser("verify", help="re-check a program's error (exhaustive for narrow formats), XLA timing",
                       epilog=VERIFY_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("path", help="run directory or front.json file")
    v.add_argument("--pick", default="best", help="best (default), cost=N or id=K")
    v.add_argument("--sampled", action="store_true", help="sample even where an exhaustive check is possible")
    v.add_argument("--samples", type=int, default=20000, help="points of a sampled check (default 20000)")
    v.add_argument("--exported", choices=["fast", "exact"],
                   help="check the compiled JAX export itself on every value of the interval instead of the program: "
                        "fast (--to jax, not bit-exact) or exact (--to jax_exact, bit-exact)")
    v.add_argument("--timing", action="store_true", help="also time the JAX export against the target's jax.numpy form")
    v.add_argument("--n", type=int, default=2 ** 22, help="elements per timed call (default 2^22)")
    v.set_defaults(fn=_cmd_verify)
    return p


def main(argv=None) -> int:
    signals.install()   # SIGTERM stops like Ctrl-C, from the first moment
    try:
        parser = build_parser()
        a = parser.parse_args(argv)
        if not getattr(a, "verb", None):
            parser.print_help()
            return 0
        return a.fn(a)
    except UserError as e:
        return _fail(_as_flag(str(e)))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        return _fail("out of memory", 1)
    except BrokenPipeError:
        return 1
    except Exception as e:
        if os.environ.get("NUMSEARCH_DEBUG"):
            raise
        return _fail(f"internal error ({type(e).__name__}: {e}); NUMSEARCH_DEBUG=1 shows the traceback", 1)


if __name__ == "__main__":
    sys.exit(main())
