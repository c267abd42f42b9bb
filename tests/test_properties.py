"""Property tests (hypothesis): whatever comes in, a result or the one-line error.

Random specs (as dicts and as YAML text), random front.json documents,
random program text and random mutation sequences.
"""
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numsearch
from numsearch.primitives.program import ProgramError, parse_program
from numsearch.search.errors import UserError
from numsearch.search.mutation import MutationContext, mutate, random_program
from numsearch.search.spec import _SCHEMA, parse_spec

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10 ** 30, 10 ** 30), st.integers(-3, 70),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-100, 100),
    st.text(max_size=12), st.sampled_from(["exp2", "exp", "log", "whole", "float32", "real", "ulp", "add", "x",
                                           "1/(x-0.5)", "x**x**x", "sqrt(x)", "nsga2", "random", "../x"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)


def _section(schema):
    if schema is None:
        return values
    return st.fixed_dictionaries({}, optional={k: _section(v) for k, v in schema.items()})


def _interval():
    return st.one_of(st.just("whole"), st.lists(st.floats(-10, 10), min_size=2, max_size=2), values)


specs = st.builds(
    lambda d, fn, iv: {**d, "target": {**(d.get("target") if isinstance(d.get("target"), dict) else {}),
                                       "function": fn, "interval": iv}},
    _section(_SCHEMA), st.one_of(st.sampled_from(["exp2", "exp", "log", "x", "sin", "1/(x-0.5)", "x**x**x**x"]),
                                 values), _interval())


@SETTINGS
@given(specs)
def test_random_specs_give_a_spec_or_the_one_line_error(d):
    try:
        s = numsearch.spec(d)
    except UserError as e:
        msg = str(e)
        assert "\n" not in msg and len(msg) < 1000, msg
    else:
        assert s.search.max_ops >= 1 and s.task.lo < s.task.hi


@SETTINGS
@given(st.text(max_size=300))
def test_random_yaml_text_gives_a_spec_or_the_one_line_error(text):
    try:
        parse_spec(text)
    except UserError as e:
        assert "\n" not in str(e) and len(str(e)) < 1000


ENTRY = {"id": 0, "cost": 2, "ops": 2, "error": 0.03, "metric": "relative",
         "program": "c0 = 0x1p+0\nv0 = mul(x, c0)\nv1 = add(v0, c0)\nreturn v1"}
FRONT = {"target": "exp2", "interval": [0.0, 1.0], "format": "real", "metric": "relative",
         "verify_points": 200, "front": [ENTRY]}


@st.composite
def fronts(draw):
    doc = json.loads(json.dumps(FRONT))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", "entry"]))
        if where == "top":
            key = draw(st.sampled_from([*FRONT, "cost_model", "cost_weights", "whole", "fastest", "error_target"]))
            tgt = doc
        else:
            key = draw(st.sampled_from([*ENTRY, "max_ulp", "ulp_format"]))
            tgt = doc["front"][0] if doc.get("front") and isinstance(doc["front"], list) \
                and isinstance(doc["front"][0], dict) else doc
        if draw(st.booleans()) and key in tgt:
            del tgt[key]
        else:
            tgt[key] = draw(values)
    return doc


@SETTINGS
@given(fronts())
def test_random_front_documents_give_a_front_or_the_one_line_error(doc):
    try:
        front = numsearch.Front(doc)
    except UserError as e:
        assert "\n" not in str(e) and len(str(e)) < 1000
        return
    try:
        front.pareto(baselines=False)
        front.export("numpy", pick="best")
    except UserError as e:
        assert "\n" not in str(e)


@SETTINGS
@given(st.text(alphabet="cvx0123456789=()+-., \nreturnaddmulsubdivfma0x1p", max_size=200))
def test_random_program_text_parses_or_is_a_program_error(text):
    try:
        p = parse_program(text)
    except ProgramError:
        return
    assert parse_program(p.text()).text() == p.text()


@SETTINGS
@given(st.integers(0, 2 ** 32), st.integers(1, 40),
       st.lists(st.sampled_from(["add", "sub", "mul", "div", "fma", "neg", "rint", "ldexp", "abs", "min", "max"]),
                min_size=1, max_size=5, unique=True))
def test_random_mutation_sequences_give_valid_programs(seed, steps, ops):
    rng = np.random.default_rng(seed)
    ctx = MutationContext(tuple(ops), {})
    p = random_program(rng, ctx, 2)
    x = np.linspace(0.0, 1.0, 9)
    for _ in range(steps):
        p = mutate(p, rng, ctx)
        assert parse_program(p.text()).text() == p.text()   # (a constant may be NaN: compare text)
    from numsearch.primitives.interpret import evaluate_float
    with np.errstate(all="ignore"):
        y = evaluate_float(p, x, "float32")
    assert y.shape == x.shape


def test_hypothesis_is_installed():
    import hypothesis
    assert hypothesis.__version__
