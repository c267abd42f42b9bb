import numpy as np
import pytest

from numsearch.primitives.interpret import evaluate_float
from numsearch.search.mutation import MUTATIONS, MutationContext, mutate, random_program
from numsearch.primitives.program import EMPTY, parse_program

CTX = MutationContext(ops=("add", "sub", "mul", "div", "fma", "neg"))


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_keeps_programs_valid(name):
    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, 9)
    applied = 0
    for trial in range(300):
        p = random_program(rng, CTX, int(rng.integers(0, 6)))
        child = MUTATIONS[name](p, rng, CTX)
        if child is None:
            continue
        applied += 1
        # valid: re-parses from text to the same program, no dead code, no constant-only work
        assert parse_program(child.text()) == child
        assert child.simplify() == child
        assert all(child.depends_on_x)
        evaluate_float(child, x, "float64")
    assert applied > (100 if name != "merge" else 1)  # random programs seldom hold alike instructions


def test_insert_and_grow_add_ops_delete_removes():
    rng = np.random.default_rng(8)
    p = parse_program("c0 = 2.0\nv0 = mul(x, c0)\nv1 = add(v0, x)\nreturn v1")
    assert MUTATIONS["delete"](p, rng, CTX).ops < p.ops
    grew = [MUTATIONS["insert"](p, rng, CTX).ops for _ in range(50)]
    assert max(grew) == p.ops + 1
    grown = [MUTATIONS["grow"](p, rng, CTX).ops for _ in range(50)]
    assert max(grown) == p.ops + 2


def test_near_identity_insert_keeps_function_close():
    rng = np.random.default_rng(9)
    p = parse_program("c0 = 2.0\nv0 = mul(x, c0)\nreturn v0")
    x = np.linspace(0, 1, 9)
    close = 0
    for _ in range(200):
        c = MUTATIONS["insert"](p, rng, CTX)
        if np.allclose(evaluate_float(c, x, "float64"), 2 * x, atol=1e-2):
            close += 1
    assert close > 40


def test_mutate_changes_program_and_respects_ops():
    rng = np.random.default_rng(10)
    ctx = MutationContext(ops=("mul",))
    p = EMPTY
    for _ in range(30):
        q = mutate(p, rng, ctx)
        assert q != p
        assert all(i.op == "mul" for i in q.instrs)
        p = q


def test_merge_joins_instructions_alike_but_for_constants():
    """x + c1 and c2 + x (commutative) become one instruction; the rest is kept."""
    from numsearch.primitives.program import parse_program
    p = parse_program("c0 = -0.5\nc1 = -0.49\nc2 = 3.0\nv0 = add(x, c0)\nv1 = div(c2, v0)\n"
                      "v2 = add(c1, x)\nv3 = add(v2, v1)\nreturn v3")
    child = MUTATIONS["merge"](p, np.random.default_rng(0), CTX)
    assert child.ops == p.ops - 1
    x = np.array([0.1, 0.3, 0.7, 0.9])
    assert np.allclose(evaluate_float(child, x), (x - 0.5) + 3.0 / (x - 0.5))
    # nothing alike: no merge
    q = parse_program("c0 = 2.0\nv0 = add(x, c0)\nv1 = mul(v0, x)\nreturn v1")
    assert MUTATIONS["merge"](q, np.random.default_rng(0), CTX) is None


def test_pole_adds_a_level_to_a_continued_fraction():
    """r -> r + c/(x + s): three ops; some children of a (2,2) fraction are full (3,3) ones."""
    from numsearch.search.chain import chain_of

    p = parse_program("""c0 = 1.5
c1 = 2.0
c2 = -0.5
c3 = 3.0
c4 = 0.25
v0 = add(x, c2)
v1 = div(c3, v0)
v2 = add(x, c4)
v3 = add(v2, v1)
v4 = div(c1, v3)
v5 = add(v4, c0)
return v5""")
    assert chain_of(p).depth == 2
    rng = np.random.default_rng(0)
    kids = [MUTATIONS["pole"](p, rng, CTX) for _ in range(200)]
    assert all(k.ops == p.ops + 3 for k in kids)
    deeper = [k for k in kids if (ch := chain_of(k)) is not None and ch.depth == 3 and len(k.consts) == 7]
    assert len(deeper) >= 10


@pytest.mark.parametrize("sum_text", ["v2 = add(c1, v1)\nv3 = add(x, v2)", "v2 = add(x, c1)\nv3 = add(v2, v1)"])
def test_merge_finds_a_shift_hidden_in_a_sum(sum_text):
    """x + (c1 + r) and (x + c1) + r use the earlier u = x + c0: u + r, one op less."""
    from numsearch.search.mutation import merges

    p = parse_program("c0 = -0.5\nc1 = -0.5\nc2 = 3.0\nv0 = add(x, c0)\nv1 = div(c2, v0)\n"
                      + sum_text + "\nv4 = mul(v3, v0)\nreturn v4")
    kids = [k for k in merges(p) if k.ops == p.ops - 1]
    x = np.array([0.1, 0.3, 0.7, 0.9])
    want = evaluate_float(p, x)
    assert any(np.allclose(evaluate_float(k, x), want) for k in kids)


def test_mutations_take_every_registered_op():
    """Every op of the registry (range reduction included) can be bred: children
    stay valid and evaluate in a hardware format and in real."""
    from numsearch.primitives.ops import OPS
    ctx = MutationContext(ops=tuple(OPS))
    rng = np.random.default_rng(12)
    x = np.linspace(-3, 3, 13)
    seen = set()
    for name in MUTATIONS:
        for _ in range(60):
            child = MUTATIONS[name](random_program(rng, ctx, int(rng.integers(0, 6))), rng, ctx)
            if child is None:
                continue
            assert parse_program(child.text()).text() == child.text() and all(child.depends_on_x)  # (NaN consts)
            evaluate_float(child, x, "float32")
            evaluate_float(child, x, "real")
            seen |= {i.op for i in child.instrs}
    assert seen == set(OPS)
