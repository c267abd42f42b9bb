"""Reduction templates (search.init: template): whole-domain kernels to start from."""
import math
import re

import numpy as np
import pytest

from numsearch.evaluators.task import Task, TaskData
from numsearch.evaluators.domain import whole_domain
from numsearch.primitives.formats import FORMATS
from numsearch.primitives.interpret import evaluate
from numsearch.search.init import INITS
from numsearch.search.exporters import export
from numsearch.search.templates import TEMPLATES, tanh_cut, tanh_program, tanh_w_degree, template_programs

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
        assert abs(ends[1]) >= 2.0 ** F32.emin and np.all(y[:4] <= F32.max_finite)


def test_template_init_sows_every_degree_within_max_ops():
    lo, hi = whole_domain("exp", F32)
    task = Task("exp", lo, hi, "float32", "ulp")
    progs = template_programs(task, 14)
    assert progs and all(p.ops <= 14 for p in progs) and len(set(progs)) == len(progs)
    assert len({p.ops for p in progs}) < len(progs)    # both exp templates, each at every degree that fits
    assert INITS["template"].seeds(task, 14, lambda s: None) == progs
    assert template_programs(Task("erf", 0.0, 1.0, "float32", "ulp"), 14) == ()   # no template for erf


def test_tanh_template_is_odd_saturates_and_joins_its_pieces_at_the_cut():
    """tanh: odd (the sign by copysign, -0 kept), exactly 1 from 13 ln 2 on and 1 - 2^-24
    between the clamp (8.56, below 8.66 where D = e^2a + 1 reaches 2^25 and D - 2 would be
    a tie) and there, NaN gives NaN; at degree 4 both pieces are within 1 ulp on every float32 on
    either side of the cut (0.69) and around the clamp and 13 ln 2, where a wrong join,
    clamp or saturation would show."""
    prog = TEMPLATES["tanh"].build(F32, 1)
    cut = tanh_cut(24, 1, "rat")
    assert 0.6 < cut < 0.8 and tanh_w_degree(24) == 5 and tanh_cut(24, 4) == cut
    u = lambda a, b: np.arange(np.float32(a).view(np.int32), np.float32(b).view(np.int32), dtype=np.int32).view(
        np.float32).astype(np.float64)
    x = np.concatenate([u(cut - 0.01, cut + 0.01), u(8.5, 8.7), u(8.95, 9.1), u(2.0 ** -20, 2.0 ** -19)])
    for s in (1.0, -1.0):
        y = evaluate(prog, s * x, "float32")
        ref = np.tanh(s * x)
        ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
        assert np.max(np.abs(y - ref) / ulp) < 1.0
    y = evaluate(prog, np.array([8.7, 9.0, 9.02, 50.0]), "float32")
    assert list(y) == [1.0 - 2.0 ** -24, 1.0 - 2.0 ** -24, 1.0, 1.0]
    pytest.importorskip("jax")
    from numsearch.search.exported import load_exported
    fast = load_exported(prog, "float32", to="jax")     # its selects are compares, false for NaN
    y = np.asarray(fast.approx(np.float32([np.nan, -np.nan, 9.02, -50.0, 8.7])))
    assert np.isnan(y[0]) and np.isnan(y[1]) and list(y[2:]) == [1.0, -1.0, np.float32(1.0 - 2.0 ** -24)]
    y = evaluate(prog, np.array([-0.0, 0.0, 9.1, 50.0, np.inf, -np.inf, np.nan]), "float32")
    assert np.signbit(y[0]) and not np.signbit(y[1]) and y[0] == 0 == y[1]
    assert list(y[2:6]) == [1.0, 1.0, 1.0, -1.0] and np.isnan(y[6])


def test_tanh_variants_differ_where_they_say():
    """The ``sub`` form clamps at 9.1 and has no saturation select; the ``quot`` form
    without ``top`` is (D - 2) / D at 9.1, a tie for D in [2^25, 2^26): off by about an ulp
    there, which the ``top`` clamp and select repair; Horner and Estrin schemes and the
    unscaled denominator give programs of the counted sizes."""
    old = dict(small="poly", down=False)
    base = tanh_program(F32, 6, cut=0.95, w_degree=5, form="sub", top=False, **old)
    assert base.ops == 29 and "div(c" in base.text()
    assert tanh_program(F32, 6, cut=0.95, w_degree=5, form="sub", top=False, w_scheme="horner", **old).ops == 28
    assert tanh_program(F32, 6, cut=0.95, w_degree=5, form="sub", top=False, scaled=False, **old).ops == 29
    with pytest.raises(ValueError, match="down needs form"):
        tanh_program(F32, 1, form="sub")
    x = np.linspace(8.70, 8.95, 2001)
    ref = np.tanh(x)
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    tie = evaluate(tanh_program(F32, 4, top=False, **old), x, "float32")
    fixed = evaluate(tanh_program(F32, 4, **old), x, "float32")
    assert np.max(np.abs(tie - ref) / ulp) > 1.0 > np.max(np.abs(fixed - ref) / ulp)


def test_tanh_large_piece_divided_through_by_2k_is_the_same_quotient():
    """``down``: V = D 2^-k, (V - 2^(1-k)) / V, is (D - 2) / D scaled exactly, so the results
    are the same bits wherever 2^k + 1 is exact (k <= 23, a below 8.1), with one op less in
    the fast export (no 2^k r; 2^(1-k) is the rint's bits shifted); the rational small piece (an fma, an add and
    its own division where P of degree 4 has four fmas) is one op shorter and within 1 ulp on
    every fifth float32 below the cut."""
    x = np.arange(np.float32(0.69).view(np.int32), np.float32(8.1).view(np.int32), 97,
                  dtype=np.int32).view(np.float32).astype(np.float64)
    for small in ("rat", "poly"):
        down, up = tanh_program(F32, 1 if small == "rat" else 4, small=small), \
            tanh_program(F32, 1 if small == "rat" else 4, small=small, down=False)
        fast = [len(re.findall(r"^    v\d+ = ", export(p, "float32", "jax", ""), re.M)) for p in (down, up)]
        assert down.ops == up.ops and fast[0] == fast[1] - 1     # the fast export drops the add of 1 - k
        assert np.array_equal(evaluate(down, x, "float32"), evaluate(up, x, "float32"))
    assert tanh_program(F32, 1).ops == tanh_program(F32, 4, small="poly").ops - 1
    # the rational's cut stops where the correction passes 18.5% of the result: at degree 2 the
    # approximation alone would allow 0.95, where the quotient's roundings put it over 1 ulp
    assert tanh_cut(24, 2, "rat") == 0.75 and tanh_cut(24, 1, "rat") == 0.69
    b = np.arange(np.float32(0.7).view(np.int32), np.float32(0.95).view(np.int32), 31,
                  dtype=np.int32).view(np.float32).astype(np.float64)
    errs = [np.max(np.abs(evaluate(tanh_program(F32, 2, **kw), b, "float32") - np.tanh(b))
                   / np.spacing(np.tanh(b).astype(np.float32)).astype(np.float64)) for kw in ({}, {"cut": 0.95})]
    assert errs[0] < 1.0 < errs[1]
    a = np.arange(np.float32(2.0 ** -12).view(np.int32), np.float32(0.69).view(np.int32), 5,
                  dtype=np.int32).view(np.float32).astype(np.float64)
    y = evaluate(tanh_program(F32, 1), a, "float32")
    ref = np.tanh(a)
    assert np.max(np.abs(y - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)) < 1.0
