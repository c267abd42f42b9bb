"""Every bad input is one line on stderr, exit status 2, no traceback, nothing written.

Tables of bad specs, flags and front.json files, each through ``main()`` as
the ``numsearch`` command runs it.
"""
import json
import signal

import pytest

from numsearch.search.cli import main

TARGET = "target: {function: exp2, interval: [0, 1]}\n"
SMALL = "search: {max_ops: 3, population: 8, islands: 2, batch: 4}\nbudget: {seconds: 30, evaluations: 16}\n" \
        "evaluation: {verify_points: 200}\n"


@pytest.fixture(autouse=True)
def _signals():
    """main() makes SIGTERM stop like Ctrl-C; give pytest its handlers back."""
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in old.items():
        signal.signal(s, h)


def one_line_error(capsys, argv, must=None, status=2):
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert rc == status, (rc, err)
    assert err.count("\n") == 1 and err.startswith("numsearch: error: "), err
    assert "Traceback" not in err and len(err) <= 420, err
    if must:
        assert must in err, err
    return err


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)) + TARGET

BAD_SPECS = [
    # duplicate keys, YAML hazards, bounded messages
    ("name: a\nname: b\n" + TARGET, "duplicate key 'name'"),
    ("target: {function: exp2, function: exp, interval: [0, 1]}\n", "duplicate key 'function'"),
    (BOMB, "expands to more than"),
    ("name: " + "[" * 5000 + "]" * 5000 + "\n", "nested"),
    ("search: {max_ops: 1" + "0" * 5000 + "}\n" + TARGET, "a value YAML cannot read"),
    ("- 1\n- 2\n", "must be a mapping"),
    ("target: [1, 2\n", "not valid YAML"),
    ("description: [1, 2]\n" + TARGET, "description: must be text"),
    # a list or mapping where a name is expected
    ("target: {function: exp2, interval: [0, 1], format: [float32]}\n", "target.format: unknown value"),
    ("target: {function: exp2, interval: [0, 1], metric: {a: 1}}\n", "target.metric: unknown value"),
    ("target: {function: [exp2], interval: [0, 1]}\n", "target.function: required"),
    (TARGET + "search: {selector: [nsga2]}\n", "search.selector: unknown value"),
    (TARGET + "search: {init: {empty: 1}}\n", "search.init: unknown value"),
    (TARGET + "search: {ops: [[add]]}\n", "search.ops: unknown op"),
    (TARGET + "search: {ops: [add, add]}\n", "listed twice"),
    (TARGET + "cost: {model: [ops]}\n", "cost.model: unknown value"),
    ("name: [a]\n" + TARGET, "name: must be a string"),
    ("name: {a: 1}\n" + TARGET, "name: must be a string"),
    ("name: ../../x\n" + TARGET, "name: must be a plain name"),
    ("name: /etc/x\n" + TARGET, "name: must be a plain name"),
    ("name: ''\n" + TARGET, "name: must be a plain name"),
    ("name: " + "a" * 300 + "\n" + TARGET, "name: must be a plain name"),
    # finite numbers
    (TARGET + "cost: {weights: {div: .nan}}\n", "cost.weights.div"),
    (TARGET + "cost: {weights: {div: .inf}}\n", "cost.weights.div"),
    (TARGET + "search: {mutations: {insert: .inf}}\n", "search.mutations.insert"),
    (TARGET + "search: {mutations: {insert: 0, grow: 0, square: 0, delete: 0, rewire: 0, change_op: 0, "
     "perturb_constant: 0, new_constant: 0, merge: 0, pole: 0}}\n", "every mutation has weight 0"),
    ("target: {function: exp2, interval: [0, 1], error: .nan}\n", "target.error"),
    ("target: {function: exp2, interval: [0, 1], error: .inf}\n", "target.error"),
    (TARGET + "budget: {seconds: .inf}\n", "budget.seconds"),
    (TARGET + "budget: {seconds: .nan}\n", "budget.seconds"),
    (TARGET + "budget: {seconds: -1}\n", "budget.seconds"),
    (TARGET + "budget: {stop_when: {.nan: 1.0e-5}}\n", "budget.stop_when"),
    (TARGET + "budget: {stop_when: {5: .inf}}\n", "budget.stop_when.5"),
    (TARGET + "fitting: {perturb: .inf}\n", "fitting.perturb"),
    (TARGET + "checkpoint_every: 0\n", "checkpoint_every"),
    (TARGET + "speed: {max_fraction: 2}\n", "speed.max_fraction: at most 1"),
    # bounds on every size, with the limit and why
    (TARGET + "search: {population: 1000000000}\n", "search.population: at most 100000"),
    (TARGET + "search: {max_ops: 1000}\n", "search.max_ops: at most 64"),
    (TARGET + "search: {max_ops: 8, init_ops: 1000000000}\n", "search.init_ops: at most 64"),
    (TARGET + "search: {max_ops: 4, init_ops: 10}\n", "search.init_ops: at most search.max_ops"),
    (TARGET + "search: {population: 8, islands: 100}\n", "search.islands: at most search.population"),
    (TARGET + "search: {batch: 10000000}\n", "search.batch: at most"),
    (TARGET + "search: {dedup_retries: 1000000000}\n", "search.dedup_retries: at most"),
    (TARGET + "search: {migrate_every: 1.0e+30}\n", "search.migrate_every: must be an integer"),
    (TARGET + "evaluation: {verify_points: 1000000000}\n", "evaluation.verify_points: at most"),
    (TARGET + "evaluation: {fit_points: 100000000}\n", "evaluation.fit_points: at most"),
    (TARGET + "fitting: {starts: 100000000}\n", "fitting.starts: at most"),
    (TARGET + "speed: {n: 1000000000000}\n", "speed.n: at most"),
    (TARGET + "budget: {evaluations: 1000000000000000000}\n", "budget.evaluations: at most"),
    (TARGET + "workers: 100000\n", "workers: at most 4096"),
    (TARGET + "seed: -1\n", "seed: must be an integer >= 0"),
    (TARGET + "seed: 100000000000000000000000\n", "seed: at most"),
    # intervals and targets
    ("target: {function: exp2, interval: [0, .inf]}\n", "target.interval: bounds must be finite"),
    ("target: {function: exp2, interval: [0, 1.0e+400]}\n", "target.interval: bounds must be finite"),
    ("target: {function: exp2, interval: [.nan, 1]}\n", "target.interval"),
    ("target: {function: exp2, interval: [0, 1, 2]}\n", "target.interval: must be [lo, hi]"),
    ("target: {function: exp2, interval: whole}\nsearch: {ops: [add]}\ncost: {weights: {add: 1}}\n"
     "target: {}\n", "duplicate key 'target'"),
    ("target: {function: exp, interval: [0, 1000], format: float16}\n", "overflows float16"),
    ("target: {function: exp, interval: [-1.0e+300, 1.0e+300]}\n", "a pole or an overflow"),
    ("target: {function: exp2, interval: [0, 1.0e-30], format: float16}\n", "target.interval: [0.0, 1e-30] holds 2 float16"),
    ("target: {function: '1/(x-0.5)', interval: [0, 1]}\n", "divides by zero (a pole) at x = 0.5"),
    ("target: {function: tan, interval: [0, 2]}\n", "tan has a pole (it changes sign"),      # between probes
    ("target: {function: '1/(x-0.3000001)', interval: [0, 1]}\n", "a pole"),
    ("target: {function: 'log(x)', interval: [-2, -1]}\n", "is not real at x = -2.0"),
    ("target: {function: 'sqrt(x)', interval: [-1, 1]}\n", "is not real at x = -1.0"),
    ("target: {function: 'x**x**x**x', interval: [0, 10]}\n", "overflows float64"),
    ("target: {function: 'exp(exp(exp(exp(x))))', interval: [0, 10]}\n", "at x ="),
    ("target: {function: '10**10**10**x', interval: [0, 1]}\n", "at x ="),
    ("target: {function: '__import__(\"os\").system(\"true\")', interval: [0, 1]}\n", "target.function"),
    ("target: {function: 'x.__class__', interval: [0, 1]}\n", "target.function: unsupported syntax"),
    ("target: {function: '" + "x+" * 300 + "x', interval: [0, 1]}\n", "longer than 500"),
]


@pytest.mark.parametrize("text,must", BAD_SPECS, ids=range(len(BAD_SPECS)))
def test_bad_spec_is_one_line(tmp_path, capsys, text, must):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    one_line_error(capsys, ["run", f, "--out", tmp_path / "o", "--workers", 0], must)
    assert not (tmp_path / "o").exists()


def test_spec_files_that_are_not_text(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_bytes(b"name: \xff\xfe\n" + TARGET.encode())
    one_line_error(capsys, ["run", f], "not UTF-8 text (byte 0xff at offset 6)")
    f.write_text("# " + "x" * (2 << 20) + "\n")
    one_line_error(capsys, ["run", f], "larger than")
    one_line_error(capsys, ["run", tmp_path], "is a directory")


def _spec(tmp_path, extra=""):
    f = tmp_path / "s.yaml"
    f.write_text("name: ok\n" + TARGET + SMALL + extra)
    return f


@pytest.mark.parametrize("flags,must", [
    (["--seed", "-1"], "--seed: must be >= 0"),
    (["--seed", "abc"], "invalid int value"),
    (["--workers", "-3"], "--workers: must be >= 0"),
    (["--workers", "100000"], "--workers: must be >= 0, an integer of at most 4096"),
    (["--workers", "1000"], "--workers: 1000 evaluator actors asked, this machine has"),
    (["--seconds", "nan"], "--seconds: must be a number > 0"),
    (["--seconds", "inf"], "--seconds: must be a number > 0"),
    (["--seconds", "0"], "--seconds: must be a number > 0"),
    (["--out", "/proc/numsearch-test/o"], "--out: cannot create"),
    (["--out", "/dev/null"], "--out: /dev/null exists and is not a directory"),
    (["--bogus"], "unrecognized arguments"),
    (["--resume", "--out", "{tmp}/nothing"], "does not exist"),
])
def test_bad_run_flags_are_one_line(tmp_path, capsys, flags, must):
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    if "--out" not in flags:
        flags += ["--out", str(tmp_path / "o")]
    one_line_error(capsys, ["run", _spec(tmp_path), *flags], must)


def test_bad_verb_and_missing_args(capsys):
    one_line_error(capsys, ["frobnicate"], "invalid choice")
    one_line_error(capsys, ["export", "x"], "required")


GOOD_ENTRY = {"id": 0, "cost": 2, "ops": 2, "error": 0.03, "metric": "relative",
              "program": "c0 = 0x1p+0\nv0 = mul(x, c0)\nv1 = add(v0, c0)\nreturn v1"}
GOOD_FRONT = {"target": "exp2", "interval": [0.0, 1.0], "format": "real", "metric": "relative",
              "verify_points": 200, "front": [GOOD_ENTRY]}


def _with(**kw):
    d = json.loads(json.dumps(GOOD_FRONT))
    for k, v in kw.items():
        if k.startswith("e_"):
            if v is None:
                del d["front"][0][k[2:]]
            else:
                d["front"][0][k[2:]] = v
        elif v is None:
            del d[k]
        else:
            d[k] = v
    return d


BAD_FRONTS = [
    ([], "a JSON object is expected"),
    ({}, "missing field 'target'"),
    (_with(front=None), "missing field 'front'"),
    (_with(front={"a": 1}), "front: must be a list"),
    (_with(front=[1]), "front[0]: must be an object"),
    (_with(format="float12"), "format: unknown format 'float12'"),
    (_with(format=["real"]), "format: unknown format"),
    (_with(metric="worst"), "metric: unknown metric"),
    (_with(interval=[1, 0]), "interval: must be [lo, hi]"),
    (_with(interval="whole"), "interval: must be [lo, hi]"),
    (_with(interval=[0, 1e309]), "interval: must be [lo, hi]"),
    (_with(verify_points=10 ** 12), "verify_points: must be an integer"),
    (_with(cost_model="joules"), "cost_model: unknown"),
    (_with(cost_weights={"div": -1}), "cost_weights.div"),
    (_with(target=["exp2"]), "target: must be a function name"),
    (_with(target="__import__('os').system('true')"), "target: unsupported syntax"),
    (_with(target="__import__('os')"), "target: unknown function"),
    (_with(target="x" + "+x" * 400), "longer than 500"),
    (_with(e_cost=None), "front[0]: missing field 'cost'"),
    (_with(e_cost="x"), "front[0].cost: must be a number"),
    (_with(e_cost=-1), "front[0].cost: must be a number >= 0"),
    (_with(e_ops=1000), "front[0].ops: must be an integer from 0 to 64"),
    (_with(e_error="nan"), "front[0].error"),
    (_with(e_id="zero"), "front[0].id"),
    (_with(e_program="garbage"), "front[0].program: not a program"),
    (_with(e_program="v0 = pow(x, x)\nreturn v0"), "front[0].program: not a program"),
    (_with(e_program=42), "front[0].program: must be program text"),
    (_with(e_program="return v9"), "front[0].program: not a program"),
    (_with(fastest={"id": None}), "fastest: missing field"),
    (_with(e_ulp_format="float99"), "front[0].ulp_format"),
]


@pytest.mark.parametrize("verb", ["pareto", "export", "verify"])
@pytest.mark.parametrize("doc,must", BAD_FRONTS, ids=range(len(BAD_FRONTS)))
def test_bad_front_json_is_one_line(tmp_path, capsys, verb, doc, must):
    f = tmp_path / "front.json"
    f.write_text(json.dumps(doc))
    args = {"pareto": ["pareto", f], "export": ["export", f, "--to", "c"], "verify": ["verify", f, "--samples", 50]}
    one_line_error(capsys, args[verb], must)


@pytest.mark.parametrize("raw,must", [
    (b"{\"target\": ", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
    (b"{\"target\": NaN}", "missing field"),
])
def test_unreadable_front_json(tmp_path, capsys, raw, must):
    f = tmp_path / "front.json"
    f.write_bytes(raw)
    one_line_error(capsys, ["pareto", f], must)


def test_export_refuses_to_overwrite(tmp_path, capsys):
    f = tmp_path / "front.json"
    f.write_text(json.dumps(GOOD_FRONT))
    out = tmp_path / "a.c"
    out.write_text("precious\n")
    one_line_error(capsys, ["export", f, "--to", "c", "-o", out], "exists (--force overwrites it)")
    assert out.read_text() == "precious\n"
    assert main(["export", str(f), "--to", "c", "-o", str(out), "--force"]) == 0
    assert "approx" in out.read_text()


def test_costly_front_entry_does_not_stall_pareto(tmp_path, capsys):
    """A cost of 300 (weighted) once made pareto fit 300-op baselines for minutes."""
    import time
    f = tmp_path / "front.json"
    f.write_text(json.dumps(_with(e_cost=300)))
    t0 = time.monotonic()
    assert main(["pareto", str(f)]) == 0
    assert time.monotonic() - t0 < 120
    assert "300" in capsys.readouterr().out
