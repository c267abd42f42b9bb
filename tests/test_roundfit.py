"""The search over rounded constants (search/roundfit.py)."""
import numpy as np

from numsearch.evaluators.task import Task, TaskData
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.program import parse_program
from numsearch.search.roundfit import refine_rounded, step_value

F32, BF16 = FORMATS["float32"], FORMATS["bfloat16"]


def test_step_value_walks_format_values():
    assert step_value(1.0, 1, F32) == 1 + 2.0 ** -23 and step_value(1.0, -1, F32) == 1 - 2.0 ** -24
    assert step_value(1.0, 2, BF16) == 1 + 2.0 ** -6 and step_value(-1.0, 1, BF16) == -1 + 2.0 ** -8
    assert step_value(step_value(0.3, 8, F32), -8, F32) == 0.3


def test_refine_recovers_a_displaced_constant_and_never_worsens():
    """e^x on [0, 1] in float32 by a degree-7 Horner polynomial: from constants that
    are float32 values but each displaced by 5 values (error 5.5 ulp, the rounded fit's
    1.0), the lattice search takes most of the way back (1.5 ulp: greedy, one constant
    at a time, it can stop short), and only ever lowers the error."""
    task = Task("exp", 0.0, 1.0, "float32", "ulp", score_points=2000)
    d = TaskData(task)
    coef = np.polynomial.polynomial.polyfit(d.x, np.exp(d.x), 7)[::-1]   # highest first
    src = "\n".join(f"c{i} = {F32.round([c])[0].hex()}" for i, c in enumerate(coef))
    src += "\nv0 = fma(c0, x, c1)\n" + "".join(f"v{k} = fma(v{k - 1}, x, c{k + 1})\n" for k in range(1, 7))
    src += "return v6"
    prog = parse_program(src)
    base = d.error(prog)
    off = prog.with_consts(tuple(step_value(float(c), 5 if i % 2 else -5, F32) for i, c in enumerate(prog.consts)))
    seen = []
    score = lambda p: seen.append(d.error(p)) or seen[-1]
    out, err, evals = refine_rounded(off, score, F32, 400)
    assert d.error(off) > 4 * base and err < 2 * base and err == d.error(out)
    assert evals == len(seen) - 1 <= 400 and all(F32.representable(np.array(out.consts)))
    again, err2, _ = refine_rounded(out, d.error, F32, 10)
    assert err2 <= err


def test_refine_stops_at_the_budget():
    task = Task("exp", 0.0, 1.0, "bfloat16", "ulp", score_points=300)
    d = TaskData(task)
    prog = parse_program("c0 = 0x1.8p+0\nc1 = 0x1p+0\nv0 = fma(c0, x, c1)\nreturn v0")
    _, err, evals = refine_rounded(prog, d.error, BF16, 3)
    assert evals == 3 and err <= d.error(prog)


def test_evaluator_never_scores_a_program_below_its_own_rounded_constants():
    """float32 exp over its whole domain from the exp_pow2 template (Taylor coefficients):
    the real-valued fit, blind to rounding, lands worse than the start here; the
    evaluator keeps whichever scores better, then searches the rounded lattice."""
    from numsearch.evaluators.domain import whole_domain
    from numsearch.search.evaluate import Evaluator
    from numsearch.search.fitting import FitConfig
    from numsearch.search.templates import TEMPLATES

    lo, hi = whole_domain("exp", F32)
    task = Task("exp", lo, hi, "float32", "ulp", fit_points=256, score_points=1024, binades=True, whole=True)
    prog = TEMPLATES["exp_pow2"].build(F32, 6)
    start = TaskData(task).error(prog)
    for evals in (0, 20):
        res = Evaluator(task, 0, FitConfig(round_evals=evals)).evaluate_one(prog)
        assert res.error <= start and all(F32.representable(np.array(res.program.consts)))
