import numpy as np

from numsearch.search.engine import Search, SearchConfig
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



def test_search_does_not_breed_known_functions():
    s = Search(SearchConfig(population=8), P, "float64", np.random.default_rng(0))
    kids, _ = s.ask(40)
    fewest = {}
    for k in kids:  # a function comes again only with fewer ops
        hk = functional_hash(k, P)
        assert k.ops < fewest.get(hk, k.ops + 1)
        fewest[hk] = k.ops
    assert s.duplicates > 0  # from f(x) = x many mutations give known functions (e.g. x*1, x+0 shapes)


def test_seeds_are_asked_first_then_mutated():
    from numsearch.primitives.program import parse_program
    seeds = (parse_program("c0 = 1.5\nv0 = mul(x, c0)\nreturn v0"), parse_program("c0 = 0.5\nv0 = add(x, c0)\nreturn v0"))
    s = Search(SearchConfig(population=8, islands=1, init="baselines"), P, "float64", np.random.default_rng(0), seeds)
    kids, _ = s.ask(6)
    assert kids[:2] == list(seeds)
    assert len(kids) == 6 and all(k.ops >= 1 for k in kids[2:])


def test_every_seed_is_sown_even_after_the_population_fills():
    from numsearch.search.evaluate import Result
    seeds = tuple(parse_program(f"c0 = {1 + k / 8}\nv0 = mul(x, c0)\nreturn v0") for k in range(12))
    s = Search(SearchConfig(population=8, islands=1, init="baselines"), P, "float64", np.random.default_rng(0), seeds)
    kids, _ = s.ask(4)
    s.tell([Result(k, 0.5, 1, 1, functional_hash(k, P)) for k in kids])
    assert s.islands[0]  # a population now: parents are drawn from it
    more, _ = s.ask(10)
    assert kids + more[:8] == list(seeds) and not s._unsown


def test_same_function_with_fewer_ops_is_admitted():
    """Seeds (sown in order): 2x+2x as mul/add (3 ops) is known, then 4*x (1 op) is
    the same function cheaper and is bred; a costlier copy of a known one is not."""
    costly = parse_program("c0 = 2.0\nv0 = mul(x, c0)\nv1 = mul(x, c0)\nv2 = add(v0, v1)\nreturn v2")
    cheap = parse_program("c0 = 4.0\nv0 = mul(x, c0)\nreturn v0")
    assert functional_hash(costly, P) == functional_hash(cheap, P) and (costly.ops, cheap.ops) == (3, 1)
    s = Search(SearchConfig(population=8, islands=1), P, "float64", np.random.default_rng(0))
    out = []
    for p, admitted in ((costly, True), (cheap, True), (costly, False), (cheap, False)):
        n = len(out)
        s._admit_one(lambda: p, out)
        assert len(out) == n + admitted
    assert out == [costly, cheap] and s.seen[functional_hash(cheap, P)] == 1 and s.duplicates == 2 * s.cfg.dedup_retries
    t = Search(SearchConfig(population=8, islands=1), P, "float64", np.random.default_rng(0))
    t.restore(s.state())
    assert t.seen == s.seen


def test_seeds_pass_the_dedup():
    """Fitted seeds may agree to the hash's resolution and still differ in error
    (a cheaper seed first, then a costlier one of the same hash): both are sown."""
    a = parse_program("c0 = 4.0\nv0 = mul(x, c0)\nreturn v0")
    b = parse_program("c0 = 2.0\nv0 = mul(x, c0)\nv1 = mul(x, c0)\nv2 = add(v0, v1)\nreturn v2")
    s = Search(SearchConfig(population=8, islands=1, init="baselines"), P, "float64", np.random.default_rng(0), (a, b))
    kids, _ = s.ask(2)
    assert kids == [a, b]


def test_stagnant_island_restarts():
    from numsearch.search.evaluate import Result
    from numsearch.primitives.program import parse_program
    s = Search(SearchConfig(population=8, islands=2, restart_after=20, migrate_every=10**9), P, "float64",
               np.random.default_rng(0))
    p = parse_program("c0 = 2.0\nv0 = mul(x, c0)\nreturn v0")
    s.tell([Result(p, 0.5, 1, 1, "h0")], island=0)
    assert s.islands[0]
    for i in range(30):  # worse results: no archive gain
        s.tell([Result(p, 0.9, 1, 1, f"h{i + 1}")], island=0)
        if s.restarts:
            break
    assert s.restarts == 1 and s.islands[0] == [] and i == 20
    assert s.archive.front()[0].error == 0.5  # the archive keeps what the island found


def test_new_best_is_tried_shorter_at_once():
    """A new best at its cost with two alike instructions: its merge is the next child."""
    from numsearch.search.evaluate import Result
    p = parse_program("c0 = -0.5\nc1 = -0.49\nc2 = 3.0\nv0 = add(x, c0)\nv1 = div(c2, v0)\n"
                      "v2 = add(c1, x)\nv3 = add(v2, v1)\nreturn v3")
    s = Search(SearchConfig(population=8, islands=1), P, "float64", np.random.default_rng(0))
    s.ask(1)
    s.tell([Result(p, 1e-3, 4, 4, functional_hash(p, P))])
    kids, _ = s.ask(1)
    assert kids[0].ops == 3 and kids[0] != p
    t = Search(SearchConfig(population=8, islands=1, mutation_weights=(("merge", 0.0),)), P, "float64",
               np.random.default_rng(0))
    t.ask(1)
    t.tell([Result(p, 1e-3, 4, 4, functional_hash(p, P))])
    assert not t._priority  # merge switched off: nothing queued
