"""Reduction templates (search.init: template): whole-domain kernels to start from."""
import math

import numpy as np
import pytest

from numsearch.evaluators.task import Task, TaskData
from numsearch.evaluators.domain import whole_domain
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.search.init import INITS
from numsearch.search.templates import TEMPLATES, template_programs

F32 = FORMATS["float32"]


@pytest.mark.parametrize("name", TEMPLATES.names())
def test_template_kernels_serve_the_whole_float32_domain(name):
    """At degree 7 each template is within 1.5 ulp over the whole domain (Taylor
    coefficients, before any fitting), uses only the ops it declares, and beyond the
    domain saturates (inf above, 0 far below) or, where it says it does not, returns
    the value at the nearest end of the domain (finite, normal)."""
    fn = TEMPLATES[name].functions[0]
    lo, hi = whole_domain(fn, F32)
    task = Task(fn, lo, hi, "float32", "ulp", score_points=4000, binades=True)
    prog = TEMPLATES[name].build(F32, 7)
    assert {i.op for i in prog.instrs} <= set(TEMPLATES[name].ops)
    assert TaskData(task).error(prog) < 1.5
    above = float(np.nextafter(np.float32(hi), np.float32(np.inf)))
    y = evaluate(prog, np.array([above, hi + 1, 1e30, np.inf, lo - 70, -np.inf, -1e30]), "float32")
    if TEMPLATES[name].saturates:
        assert np.all(np.isinf(y[:4]) & (y[:4] > 0)) and np.all(y[4:] == 0)
    else:
        ends = evaluate(prog, np.array([hi, lo]), "float32")
        assert np.all(y[:4] >= ends[0]) and np.all(y[4:] == ends[1]) and np.all(np.isfinite(y))
        assert ends[1] >= 2.0 ** F32.emin and np.all(y[:4] <= F32.max_finite)


def test_template_init_sows_every_degree_within_max_ops():
    lo, hi = whole_domain("exp", F32)
    task = Task("exp", lo, hi, "float32", "ulp")
    progs = template_programs(task, 14)
    assert progs and all(p.ops <= 14 for p in progs) and len(set(progs)) == len(progs)
    assert len({p.ops for p in progs}) < len(progs)    # both exp templates, each at every degree that fits
    assert INITS["template"].seeds(task, 14, lambda s: None) == progs
    assert template_programs(Task("erf", 0.0, 1.0, "float32", "ulp"), 14) == ()   # no template for erf
