import numpy as np
import pytest

from numsearch.primitives.interpret import evaluate, evaluate_float, value_and_jacobian
from numsearch.primitives.program import EMPTY, Instr, Program, ProgramError, parse_program

TEXT = """c0 = 0x1.62e42fefa39efp-1
c1 = 0x1.0000000000000p+0
v0 = mul(x, c0)
v1 = add(v0, c1)
return v1"""


def test_text_round_trip():
    p = parse_program(TEXT)
    assert p.text() == TEXT
    assert parse_program(p.text()) == p
    assert p.consts[0] == float.fromhex("0x1.62e42fefa39efp-1")
    assert hash(p) == hash(parse_program(TEXT))


@pytest.mark.parametrize("bad,msg", [
    ("v0 = mul(x, c0)\nreturn v0", "c0 is not defined"),
    ("v0 = mul(x, v1)\nv1 = add(x, x)\nreturn v0", "used before"),
    ("v0 = pow(x, x)\nreturn v0", "unknown op"),
    ("v0 = add(x)\nreturn v0", "takes 2 args"),
    ("v0 = add(x, x)", "no 'return'"),
    ("c0 = zz\nreturn x", "bad constant"),
    ("x = 1\nreturn x", "cannot parse"),
])
def test_parse_errors(bad, msg):
    with pytest.raises(ProgramError, match=msg):
        parse_program(bad)


def test_simplify_removes_dead_code_and_constants():
    p = Program((1.0, 2.0, 3.0), (Instr("mul", ("x", "c2")), Instr("add", ("x", "c1")), Instr("sub", ("v1", "c1"))), "v1")
    s = p.simplify()
    assert s.text() == "c0 = 0x1.0000000000000p+1\nv0 = add(x, c0)\nreturn v0"
    assert s.ops == 1


def test_cost_counts_only_x_dependent_instructions():
    p = Program((2.0, 3.0), (Instr("mul", ("c0", "c1")), Instr("mul", ("x", "v0")), Instr("div", ("v1", "c1"))), "v2")
    assert p.ops == 2
    assert p.cost() == 2
    assert p.cost({"div": 4.0}) == 5.0
    f = p.fold_constants()
    assert f.ops == 2 and len(f.instrs) == 2
    x = np.linspace(0, 1, 7)
    assert np.array_equal(evaluate_float(f, x, "float64"), evaluate_float(p, x, "float64"))


def test_fold_drops_min_and_max_of_a_value_with_itself():
    """min(a, a) and max(a, a) are a (NaN and -0 too): folding drops them, as the
    compiler does (a searched exp kernel carried two such no-ops)."""
    from numsearch.primitives.program import parse_program
    p = parse_program("c0 = 2.0\nv0 = mul(x, c0)\nv1 = min(v0, v0)\nv2 = max(v1, v1)\nv3 = add(v2, x)\n"
                      "v4 = min(v3, x)\nreturn v4")
    f = p.fold_constants()
    assert [i.op for i in f.instrs] == ["mul", "add", "min"] and f.ops == 3
    x = np.array([-1.5, -0.0, 0.0, 0.7, np.inf, -np.inf, np.nan])
    assert np.array_equal(evaluate_float(f, x, "float32"), evaluate_float(p, x, "float32"), equal_nan=True)
    assert parse_program("v0 = max(x, x)\nreturn v0").fold_constants().ops == 0
    q = parse_program("c0 = 1.5\nv0 = sub(x, c0)\nv1 = mul(x, x)\nv2 = select(v0, v1, v1)\nv3 = select(v0, v2, x)\n"
                      "return v3")
    g = q.fold_constants()     # select(s, a, a) is a; select(s, a, b) stays
    assert [i.op for i in g.instrs] == ["sub", "mul", "select"] and g.ops == 3
    assert np.array_equal(evaluate_float(g, x, "float32"), evaluate_float(q, x, "float32"), equal_nan=True)


def test_empty_program_is_identity():
    x = np.linspace(-1, 1, 5)
    assert np.array_equal(evaluate_float(EMPTY, x, "float32"), x)
    assert EMPTY.ops == 0


def test_jacobian_matches_finite_differences():
    p = parse_program("c0 = 0.7\nc1 = -3.0\nc2 = 1.5\nv0 = add(x, c1)\nv1 = div(c0, v0)\nv2 = fma(v1, x, c2)\nreturn v2")
    x = np.linspace(0, 1, 11)
    v, J = value_and_jacobian(p, x)
    c = np.array(p.consts)
    for j in range(3):
        h = 1e-6 * max(1, abs(c[j]))
        cp, cm = c.copy(), c.copy()
        cp[j] += h
        cm[j] -= h
        fd = (evaluate_float(p, x, "float64", cp) - evaluate_float(p, x, "float64", cm)) / (2 * h)
        assert np.allclose(J[:, j], fd, rtol=1e-6, atol=1e-9)
    assert np.allclose(v, evaluate_float(p, x, "real"))


def test_real_format_is_more_precise_than_float64():
    # (1 + 2^-60) - 1 in double-double keeps the 2^-60
    p = parse_program("c0 = 0x1p-60\nc1 = 1.0\nv0 = add(x, c0)\nv1 = sub(v0, c1)\nreturn v1")
    hi, lo = evaluate(p, np.array([1.0]), "real")
    assert hi[0] + lo[0] == 2.0 ** -60
    assert evaluate_float(p, np.array([1.0]), "float64")[0] == 0.0
