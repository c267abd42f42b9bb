import numpy as np

from numsearch.search.fhash import functional_hash, probe_points
from numsearch.primitives.program import parse_program

P = probe_points(0.0, 1.0)


def h(text):
    return functional_hash(parse_program(text), P)


def test_same_function_same_hash():
    twice = h("v0 = add(x, x)\nreturn v0")
    assert twice == h("c0 = 2.0\nv0 = mul(c0, x)\nreturn v0")
    assert twice == h("c0 = 2.0\nv0 = mul(x, c0)\nreturn v0")
    # reordered commutative args, reassociation, dead code
    a = h("c0 = 0.3\nc1 = 1.7\nv0 = add(x, c0)\nv1 = add(v0, c1)\nv2 = mul(v1, x)\nreturn v2")
    b = h("c0 = 1.7\nc1 = 0.3\nv0 = add(c0, c1)\nv1 = add(x, v0)\nv2 = mul(x, v1)\nv3 = div(v2, x)\nreturn v2")
    assert a == b


def test_different_functions_different_hash():
    texts = ["return x", "v0 = mul(x, x)\nreturn v0", "v0 = add(x, x)\nreturn v0",
             "c0 = 2.0000001\nv0 = mul(c0, x)\nreturn v0", "v0 = div(x, x)\nreturn v0", "c0 = 1.0\nreturn c0"]
    hs = [h(t) for t in texts]
    assert len(set(hs)) == len(hs) - 1  # x/x and the constant 1 are the same function
    assert hs[4] == hs[5]


def test_ops_flag_tells_apart_one_function_computed_two_ways():
    """x + x and 2 * x are one function (one hash), but with ``ops`` (runs that rank
    programs by speed) they hash apart; reordering instructions does not."""
    from numsearch.primitives.program import parse_program
    from numsearch.search.fhash import functional_hash, probe_points
    pr = probe_points(0.0, 1.0)
    a = parse_program("v0 = add(x, x)\nreturn v0")
    b = parse_program("c0 = 0x1p+1\nv0 = mul(x, c0)\nreturn v0")
    assert functional_hash(a, pr, "float32") == functional_hash(b, pr, "float32")
    assert functional_hash(a, pr, "float32", ops=True) != functional_hash(b, pr, "float32", ops=True)
    c = parse_program("v0 = mul(x, x)\nv1 = add(x, x)\nv2 = add(v0, v1)\nreturn v2")
    d = parse_program("v0 = add(x, x)\nv1 = mul(x, x)\nv2 = add(v1, v0)\nreturn v2")
    assert functional_hash(c, pr, "float32", ops=True) == functional_hash(d, pr, "float32", ops=True)


def test_ops_flag_tells_apart_programs_that_differ_only_beyond_the_interval():
    """One function on [0, 1], clamped at 2 or at 3: in a speed-ranked run (``ops``) they
    hash apart (their fast exports may differ: clamps let the exporter prove more)."""
    a = parse_program("c0 = 2.0\nv0 = min(x, c0)\nreturn v0")
    b = parse_program("c0 = 3.0\nv0 = min(x, c0)\nreturn v0")
    assert functional_hash(a, P, "float32") == functional_hash(b, P, "float32")
    assert functional_hash(a, P, "float32", ops=True) != functional_hash(b, P, "float32", ops=True)
