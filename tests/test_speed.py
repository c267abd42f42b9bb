"""Speed as the second objective: candidates meeting target.error are timed
(cached by functional hash), front.json holds their speed ratios and the
fastest, ``pick best`` takes it.  No assertion on the measured values beyond
finite and positive: timings are noisy."""
import json
import math

import numpy as np
import pytest

import numsearch
from numsearch.primitives.program import parse_program
from numsearch.search.evaluate import Result
from numsearch.search.speedcache import SpeedCache, SpeedConfig
from numsearch.search.spec import SpecError, spec_from_dict

# timing cheap enough for tests: 1024 values, a 10-step chain, 3 timings, 3 measurements
CHEAP = {"time": True, "n": 1024, "steps": 10, "timings": 3, "measurements": 3, "max_fraction": 1.0, "verify": 1}
SPEC = {"name": "speed_test",
        "target": {"function": "exp2", "interval": [0, 1], "format": "float32", "metric": "ulp", "error": 50},
        "search": {"ops": ["add", "mul", "fma"], "max_ops": 10, "init": "baselines", "population": 8, "islands": 1,
                   "batch": 4},
        "speed": CHEAP, "budget": {"seconds": 120, "evaluations": 40}, "evaluation": {"verify_points": 2000},
        "workers": 0}


def _fake_timer(calls):
    def timer(program):
        calls.append(program.text())
        r = 1.0 + len(calls) / 10
        return {"ratio": r, "ratio_q25": r - 0.05, "ratio_q75": r + 0.05, "ratio_min": r - 0.1, "ratio_max": r + 0.1,
                "program_ns": 1.0, "reference_ns": r, "exporter": "jax", "device": "cpu:cpu",
                "reference": "jax.numpy.exp2"}
    return timer


def _result(text, error, h, ops=1):
    return Result(parse_program(text), error, float(ops), ops, h)


def test_cache_times_each_function_once_and_only_those_meeting_the_target():
    calls = []
    cache = SpeedCache(SpeedConfig(time=True), 50.0, _fake_timer(calls))
    a, b = _result("v0 = mul(x, x)\nreturn v0", 10.0, "h1"), _result("v0 = add(x, x)\nreturn v0", 60.0, "h2")
    again = _result("v0 = mul(x, x)\nreturn v0", 10.0, "h1")        # re-submitted, same hash
    shorter = _result("return x", 40.0, "h1", ops=0)                   # same function, other code
    cache.tell([a, b, again], lambda: 1.0)
    cache.tell([again, shorter], lambda: 1.0)
    assert calls == [a.program.text(), "return x"]                   # b misses the target: never timed
    assert (cache.timed, cache.saved, cache.skipped) == (2, 2, 0)
    assert cache.get("h1", 1)["ratio"] == 1.1 and cache.get("h2", 1) is None
    assert cache.summary() == "timed 2 (cache saved 2)"
    assert cache.counts() == {"timed": 2, "timing_cache_saved": 2, "timing_skipped": 0,
                              "timing_seconds": cache.counts()["timing_seconds"]}
    assert [r["ops"] for r in cache.by_speed()] == [0, 1]             # fastest first
    # state survives JSON (the checkpoint) and a restored cache times nothing again
    restored = SpeedCache(SpeedConfig(time=True), 50.0, _fake_timer(calls))
    restored.restore(json.loads(json.dumps(cache.state())))
    restored.tell([again, shorter], lambda: 1.0)
    assert len(calls) == 2 and (restored.timed, restored.saved) == (2, 4)
    assert restored.records == cache.records


def test_cache_budget_skips_and_says_so():
    calls = []
    cache = SpeedCache(SpeedConfig(time=True, max_timed=1), 50.0, _fake_timer(calls))
    cache.tell([_result("return x", 1.0, "h1", 0), _result("v0 = mul(x, x)\nreturn v0", 1.0, "h2")], lambda: 1.0)
    assert (cache.timed, cache.skipped) == (1, 1) and len(calls) == 1
    assert cache.summary() == "timed 1 (cache saved 0, skipped 1 over the timing budget)"
    frac = SpeedCache(SpeedConfig(time=True, max_fraction=0.1), 50.0, _fake_timer(calls))
    frac.seconds = 5.0                                                  # already 5 s of a 10 s run timing
    frac.tell([_result("return x", 1.0, "h1", 0)], lambda: 10.0)
    assert (frac.timed, frac.skipped) == (0, 1)


def _spec(**over):
    d = json.loads(json.dumps(SPEC))
    for path, v in over.items():
        sec, key = path.split("__")
        if v is None:
            d[sec].pop(key, None)
        else:
            d[sec][key] = v
    return d


@pytest.mark.parametrize("over,msg", [
    ({"target__format": "float64"}, "speed.time: timing ranks programs of hardware formats (float32 and narrower), "
                                    "not float64"),
    ({"target__format": "real"}, "speed.time: timing ranks programs of hardware formats (float32 and narrower), not real"),
    ({"target__error": None}, "speed.time: needs target.error"),
    ({"speed__exporter": "c"}, "speed.exporter: unknown value 'c'"),
    ({"speed__n": 0}, "speed.n: must be an integer >= 1"),
    ({"speed__max_fraction": 0}, "speed.max_fraction: must be a positive number"),
    ({"speed__time": "yes"}, "speed.time: must be true or false"),
    ({"speed__timed": True}, "speed.timed: unknown key"),
    ({"speed__inputs": "some"}, "speed.inputs: unknown value 'some' (expected one of: all, domain)"),
    ({"speed__inputs": "domain", "speed__time": False}, "speed.inputs: the promise about inputs is for timed runs"),
])
def test_speed_spec_errors_are_one_line_naming_the_key(over, msg):
    with pytest.raises(SpecError) as e:
        spec_from_dict(_spec(**over))
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_speed_spec_defaults_and_off():
    s = spec_from_dict(_spec())
    assert s.speed.time and (s.speed.n, s.speed.steps, s.speed.exporter) == (1024, 10, "jax")
    off = spec_from_dict(_spec(speed__time=False, target__format="float64"))   # not timing: float64 is fine
    assert not off.speed.time and SpeedConfig().max_timed == 200
    assert s.speed.inputs == "all" and spec_from_dict(_spec(speed__inputs="domain")).speed.inputs == "domain"


@pytest.fixture(scope="module")
def timed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("speed") / "run"
    lines = []
    front = numsearch.run(SPEC, out, progress=lines.append)
    return out, front, lines


def _finite_positive(v):
    return isinstance(v, float) and math.isfinite(v) and v > 0


def test_timed_run_records_speed_for_entries_meeting_the_target(timed_run):
    out, front, lines = timed_run
    doc = front.doc
    met = [r for r in doc["front"] if r["search_error"] <= 50]
    assert met and len(met) < len(doc["front"])                         # both kinds on this front
    for r in doc["front"]:
        if "source" in r and "speed_ratio" not in r:
            continue   # a classical approximation merged at write time, its program not timed as it is
        if r["search_error"] <= 50:
            assert all(_finite_positive(r[k]) for k in ("speed_ratio", "speed_ratio_q25", "speed_ratio_q75"))
            assert r["speed_ratio_q25"] <= r["speed_ratio"] <= r["speed_ratio_q75"]
            assert r["speed_exporter"] == "jax"
        else:
            assert not any(k.startswith("speed") for k in r)
    t = doc["timing"]
    assert (t["exporter"], t["n"], t["steps"], t["timings"], t["measurements"]) == ("jax", 1024, 10, 3, 3)
    assert t["reference"] == "jax.numpy.exp2"
    # the fastest timed program meets the target on the dense grid
    f = doc["fastest"]
    assert f["error"] <= 50 and _finite_positive(f["speed_ratio"])
    assert 0 <= f["exhaustive_error"] <= 50   # checked over every float32 of [0, 1] at the end (speed.verify)
    assert f["id"] is None or doc["front"][f["id"]]["program"] == f["program"]
    # counts: every timing is one cached record; run.json and front.json agree; the log says them
    ck = json.loads((out / "checkpoint.json").read_text())["speed"]
    run = json.loads((out / "run.json").read_text())
    assert doc["run"]["timed"] == run["timed"] == len(ck["records"]) >= len(met)
    assert run["timing_cache_saved"] == ck["saved"] and run["timing_skipped"] == 0
    done = next(ln for ln in lines if ln.startswith("done ("))
    assert f"timed {run['timed']} (cache saved {run['timing_cache_saved']})" in done
    assert done in (out / "log.txt").read_text()
    assert any(ln.startswith("fastest timed: ") for ln in lines)


def test_pick_best_is_the_fastest_meeting_the_target(timed_run):
    _, front, _ = timed_run
    best = front.pick("best")
    assert best.text == front.doc["fastest"]["program"] and best.error <= 50
    assert best.name == (f"id {best.id}" if best.id is not None else "the fastest timed (not on the front)")
    src = front.export("jax")                                      # the fastest is the one exported
    assert best.text.splitlines()[-1] in src
    # without timings: the cheapest meeting the target
    doc = {k: v for k, v in front.doc.items() if k not in ("fastest", "timing")}
    untimed = numsearch.search.api.Front(doc)
    cheapest = untimed.pick("best")
    assert cheapest.error <= 50 and all(e.cost >= cheapest.cost for e in untimed if e.error <= 50)


def test_pareto_shows_speed(timed_run):
    _, front, _ = timed_run
    table = front.table(baselines=False)
    assert "speed [q25, q75]" in table and "fastest meeting error 50" in table
    rows = front.pareto(baselines=False)
    assert [r.speed_ratio is not None for r in rows] == ["speed_ratio" in e.record for e in front]


def test_resume_keeps_the_speed_cache(tmp_path):
    out = tmp_path / "run"
    spec = dict(SPEC, budget={"seconds": 120, "evaluations": 20})
    numsearch.run(spec, out)
    before = json.loads((out / "checkpoint.json").read_text())["speed"]
    assert before["records"]
    lines = []
    numsearch.run(dict(spec, budget={"seconds": 120, "evaluations": 40}), out, resume=True, progress=lines.append)
    after = json.loads((out / "checkpoint.json").read_text())["speed"]
    assert any(ln.startswith("resumed from") for ln in lines)
    for k, rec in before["records"].items():                           # kept, not timed again
        assert after["records"][k] == rec
    run = json.loads((out / "run.json").read_text())
    assert run["timed"] == len(after["records"]) and run["timed"] >= before["timed"]
    assert run["timing_cache_saved"] >= before["saved"]


def test_settle_times_the_skipped_front_within_max_timed():
    calls = []
    cache = SpeedCache(SpeedConfig(time=True, max_fraction=0.1, max_timed=2), 50.0, _fake_timer(calls))
    cache.seconds = 5.0                                                 # the fraction binds
    front = [_result("return x", 60.0, "h0", 0), _result("v0 = mul(x, x)\nreturn v0", 40.0, "h1"),
             _result("v0 = fma(x, x, x)\nreturn v0", 30.0, "h2"), _result("v0 = add(x, x)\nreturn v0", 20.0, "h3")]
    cache.tell(front, lambda: 10.0)
    assert (cache.timed, cache.skipped) == (0, 3)
    assert cache.settle(front) == 2 and cache.timed == 2               # h0 misses the goal; max_timed caps it
    assert cache.get("h1", 1) and cache.get("h2", 1) and cache.get("h3", 1) is None
    assert cache.settle(front) == 0


def test_confirm_checks_the_fastest_until_one_meets_the_goal_and_fastest_skips_failures():
    """Exhaustive checks at the end: fastest first, stop at the first that passes,
    at most speed.verify of them; a record whose check failed is never `fastest`."""
    from numsearch.search.speedcache import SpeedCache, SpeedConfig
    from numsearch.search.rundir import fastest_record
    from numsearch.evaluators.task import Task, TaskData
    from numsearch.primitives.program import parse_program
    progs = {name: parse_program(f"c0 = {c}\nv0 = mul(x, c0)\nv1 = add(v0, c0)\nreturn v1")
             for name, c in (("fast", 0.7), ("mid", 0.69), ("slow", 0.68))}
    ratio = {"fast": 3.0, "mid": 2.0, "slow": 1.0}
    exhaustive = {progs["fast"].text(): 5.0, progs["mid"].text(): 0.5, progs["slow"].text(): 0.1}
    checked = []

    def checker(text):
        checked.append(text)
        return exhaustive[text]
    cache = SpeedCache(SpeedConfig(time=True, verify=2), 1e9, lambda p: None, checker)
    for name, p in progs.items():
        cache.records[name] = {"program": p.text(), "cost": 2, "ops": 2, "hash": name, "search_error": 0.1,
                               "exporter": "jax", "ratio": ratio[name], "ratio_q25": ratio[name],
                               "ratio_q75": ratio[name], "ratio_min": 1, "ratio_max": 1, "program_ns": 1,
                               "reference_ns": 1}
    cache.goal = 1.0
    assert cache.confirm() == 2 and checked == [progs["fast"].text(), progs["mid"].text()]
    assert "exhaustive_error" not in cache.records["slow"]          # stopped at the first that passed
    assert cache.confirm() == 0                                      # nothing checked twice
    vdata = TaskData(Task("exp2", 0.0, 1.0, "float32", "absolute", verify_points=200))
    best = fastest_record(cache, 1.0, [], vdata)
    assert best["program"] == progs["mid"].text() and best["exhaustive_error"] == 0.5
    cache.records["mid"]["exhaustive_error"] = 2.0                  # had its check failed too:
    assert fastest_record(cache, 1.0, [], vdata) is None             # no unchecked program stands in


def test_confirm_checks_one_function_once():
    """Records of one function (the values part of the hash and the search error: the
    same kernel with other no-op instructions, timed apart) share one exhaustive check,
    so a failed check is not spent again on a twin; one values hash with another search
    error is another function (accurate float32 kernels can round alike at the hash's
    points) and is checked."""
    from numsearch.search.speedcache import SpeedCache, SpeedConfig
    checked = []

    figures = {"a": 5.0, "a+nop": 5.0, "b": 0.5, "b+nop": 0.5, "b2": 0.5}

    def checker(text):
        checked.append(text)
        return figures[text]
    cache = SpeedCache(SpeedConfig(time=True, verify=2), 1.0, lambda p: None, checker)
    for key, text, h, err, ratio in (("a1", "a", "ha.x1", 0.8, 3.0), ("a2", "a+nop", "ha.x2", 0.8, 2.9),
                                     ("b", "b", "ha.x1", 0.5, 2.0)):
        cache.records[key] = {"program": text, "cost": 2, "ops": 2, "hash": h, "search_error": err,
                              "exporter": "jax", "ratio": ratio, "ratio_q25": ratio, "ratio_q75": ratio,
                              "ratio_min": 1, "ratio_max": 1, "program_ns": 1, "reference_ns": 1}
    assert cache.confirm() == 2 and checked == ["a", "b"]
    assert cache.records["a2"]["exhaustive_error"] == 5.0 and cache.records["b"]["exhaustive_error"] == 0.5
    # a2 fails at 2.03; b+nop, tied with it (within 1%), passes; b2 is within 1% of b+nop but not of a2
    cache.records["a2"]["ratio"] = 2.03
    cache.records["b+nop"] = dict(cache.records["b"], program="b+nop", hash="ha.x3", cost=3, ratio=2.015)
    cache.records["b2"] = dict(cache.records["b"], program="b2", hash="ha.x4", cost=1, ratio=1.998)
    cache.records["b3"] = dict(cache.records["b"], program="b3", hash="ha.x5", cost=1, ratio=1.9)
    cache.records["b"]["ratio"] = 1.5
    for k in ("b+nop", "b2", "b3", "b"):
        cache.records[k].pop("exhaustive_error", None)
    # the fastest unchecked of b's function; its twins share the pass, and b2, cheaper within 1%,
    # would ship on a shared figure: it gets its own check
    assert cache.confirm() == 2 and checked[-2:] == ["b+nop", "b2"]
    assert cache.records["b3"]["exhaustive_error"] == 0.5 and cache.records["b3"]["check_shared"]
    assert cache.records["b2"]["exhaustive_error"] == 0.5 and "check_shared" not in cache.records["b2"]
    assert cache.shipped()["program"] == "b2"
    from numsearch.search.rundir import fastest_record
    from numsearch.evaluators.task import Task, TaskData
    from numsearch.primitives.program import parse_program
    vdata = TaskData(Task("exp2", 0.0, 1.0, "float32", "absolute", verify_points=200))
    p = lambda c: parse_program(f"c0 = {c}\nv0 = mul(x, c0)\nreturn v0").text()
    for k, c in (("a1", 1.0), ("a2", 1.01), ("b", 1.02), ("b+nop", 1.03), ("b2", 1.04), ("b3", 1.05)):
        cache.records[k]["program"] = p(c)
    best = fastest_record(cache, 1e9, [], vdata)     # b+nop passes first; b2, within 1% of it and cheaper, ships
    assert best["program"] == p(1.04) and best["cost"] == 1


def test_a_shipped_twin_that_fails_its_own_check_does_not_ship():
    """A twin (same fingerprint and search error) shares a pass, but if it would ship, its own
    check decides: here it fails, and the program that passed its own check ships."""
    from numsearch.search.speedcache import SpeedCache
    figures = {"a": 3.0, "k": 0.9, "k+nop": 1.2}
    cache = SpeedCache(SpeedConfig(time=True, verify=2), 1.0, lambda p: None, lambda t: figures[t])
    # a fails; k passes; k+nop, cheaper, is out of their group in by_speed but ties with k in shipped
    for key, cost, ratio, f in (("a", 2, 2.03, "fa"), ("k", 3, 2.015, "fk"), ("k+nop", 1, 1.998, "fk")):
        cache.records[key] = {"program": key, "cost": cost, "ops": cost, "hash": "h.x", "function": f,
                              "search_error": 0.5, "exporter": "jax", "ratio": ratio, "ratio_q25": ratio,
                              "ratio_q75": ratio, "ratio_min": 1, "ratio_max": 1, "program_ns": 1, "reference_ns": 1}
    assert cache.confirm() == 3 and cache.records["k+nop"]["exhaustive_error"] == 1.2
    assert cache.shipped()["program"] == "k"
    figures["k+nop"] = 0.9
    del cache.records["k+nop"]["exhaustive_error"]
    assert cache.confirm() == 1 and cache.shipped()["program"] == "k+nop"


def test_interval_fingerprint_ignores_values_beyond_the_interval():
    """Kernels equal on a whole float32 interval but not at +-inf (a clamp at the largest
    float) get one fingerprint, where the functional hash's values part tells them apart;
    another constant gets another."""
    from numsearch.search.fhash import functional_hash, probe_points
    from numsearch.search.speedcache import interval_fingerprint
    big = float(np.finfo(np.float32).max)
    plain = parse_program("c0 = 0x1p-1\nv0 = mul(x, c0)\nreturn v0")
    clamped = parse_program(f"c0 = 0x1p-1\nc1 = {big.hex()}\nv0 = min(x, c1)\nv1 = mul(v0, c0)\nreturn v1")
    other = parse_program("c0 = 0x1.000002p-1\nv0 = mul(x, c0)\nreturn v0")
    fp = lambda p: interval_fingerprint(p, "float32", -big, big)
    h = lambda p: functional_hash(p, probe_points(-big, big), "float32", ops=True).split(".")[0]
    assert fp(plain) == fp(clamped) and h(plain) != h(clamped)
    assert fp(other) != fp(plain)


def test_inputs_domain_drops_the_points_beyond_a_whole_domain():
    """speed.inputs: domain promises inputs in the interval: a whole-domain run then
    scores no inputs beyond it (a kernel clamped to the domain's ends is not penalised
    for returning finite values there), and the front records it."""
    from numsearch.evaluators.task import TaskData
    spec = {"name": "e", "target": {"function": "exp", "interval": "whole", "format": "float32", "metric": "ulp",
                                   "error": 1.0}, "speed": {"time": True}}
    every = spec_from_dict(spec)
    dom = spec_from_dict({**spec, "speed": {"time": True, "inputs": "domain"}})
    assert every.task.beyond and not dom.task.beyond
    x_every, x_dom = TaskData(every.task).x, TaskData(dom.task).x
    assert x_every.max() > every.task.hi and x_dom.max() <= dom.task.hi and x_dom.min() >= dom.task.lo


def test_speeds_within_one_percent_are_ties_taken_cheapest_first():
    """by_speed: 1.552 (13 ops) and 1.548 (11 ops) are one speed (the same machine code,
    timed twice), so the cheaper comes first; 1.50 is slower, whatever its cost."""
    cache = SpeedCache(SpeedConfig(time=True), 1.0, None)
    for h, ops, ratio in (("a", 13, 1.552), ("b", 11, 1.548), ("c", 9, 1.50)):
        cache.records[cache.key(h, ops)] = {"program": h, "cost": float(ops), "ops": ops, "ratio": ratio}
    assert [r["ops"] for r in cache.by_speed()] == [11, 13, 9]
