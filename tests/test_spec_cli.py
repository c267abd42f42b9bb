
import pytest

from conftest import cli
from numsearch.search.cli import main
from numsearch.search.spec import SpecError, parse_spec

GOOD = """
name: t
target: {function: exp2, interval: [0, 1]}
search: {ops: [add, mul], max_ops: 4}
budget: {seconds: 5}
"""


def test_good_spec_defaults():
    s = parse_spec(GOOD)
    assert s.task.format == "real" and s.task.metric == "relative"
    assert s.search.ops == ("add", "mul") and s.search.max_ops == 4
    assert s.budget.seconds == 5.0 and s.workers == 2


def test_spec_ops_default_and_range_reduction():
    """The default op set stays + - * /; the range-reduction ops are accepted by name."""
    assert parse_spec(GOOD.replace("ops: [add, mul], ", "")).search.ops == ("add", "sub", "mul", "div")
    ops = ["fma", "rint", "ldexp", "exponent", "significand", "abs", "copysign", "min", "max"]
    s = parse_spec(GOOD.replace("[add, mul]", "[" + ", ".join(ops) + "]") + "cost: {weights: {ldexp: 2}}\n")
    assert s.search.ops == tuple(ops) and dict(s.task.cost_weights)["ldexp"] == 2.0


@pytest.mark.parametrize("text,msg", [
    ("target: {function: exp2, interval: [0, 1]}\nsearch: {max_op: 3}", "search.max_op: unknown key"),
    ("target: {function: exp2, interval: [0, 1]}\nsearch: {max_ops: a}", "search.max_ops: must be an integer"),
    ("target: {function: exp2, interval: [1, 0]}", "target.interval: must be"),
    ("target: {function: 'os.system(1)', interval: [0, 1]}", "target.function:"),
    ("target: {function: '__import__(\"os\")', interval: [0, 1]}", "target.function: unknown function"),
    ("target: {function: exp2, interval: [0, 1], format: float12}", "target.format: unknown value 'float12'"),
    ("target: {function: exp2, interval: [0, 1]}\nsearch: {ops: [add, pow]}", "search.ops: unknown op 'pow'"),
    ("target: {function: exp2, interval: [0, 1]}\ncost: {weights: {div: -1}}", "cost.weights.div: must be a number >= 0"),
    ("target: {function: exp2, interval: [0, 1]}\ncost: {weights: {div: .inf}}", "cost.weights.div: must be a number >= 0"),
    ("target: {function: exp2, interval: [0, 1]}\nsearch: {mutations: {insert: .nan}}",
     "search.mutations.insert: must be a number >= 0"),
    ("target: {function: exp2, interval: [0, 1]}\nsearch: {mutations: {teleport: 1}}",
     "search.mutations.teleport: unknown mutation"),
    ("target: {function: exp2, interval: [0, 1]}\nbudget: {stop_when: {5: 0}}", "budget.stop_when.5"),
    ("target: [1, 2", "not valid YAML"),
    ("target: {interval: [0, 1]}", "target.function: required"),
])
def test_bad_specs_name_the_key(text, msg):
    with pytest.raises(SpecError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        parse_spec(text)


def test_expression_targets_are_parsed_safely():
    s = parse_spec("target: {function: '1/(1+exp(-x))', interval: [-4, 4]}")
    from numsearch.evaluators.targets import Target
    import mpmath
    assert abs(Target(s.task.target).mp(0.5) - 1 / (1 + mpmath.exp(-0.5))) < 1e-14


run_cli = cli


def test_cli_bad_spec_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: {function: exp2, interval: [0, 1]}\nsearch: {max_ops: -3}\n")
    r = run_cli("run", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "search.max_ops" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_cli_missing_paths_exit_2(tmp_path):
    r = run_cli("run", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    r = run_cli("pareto", str(tmp_path / "nope"))
    assert r.returncode == 2 and "no such run directory" in r.stderr


def test_help_lists_verbs(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "run" in out and "pareto" in out


def test_resume_continues_from_checkpoint(tmp_path):
    import json
    spec = tmp_path / "s.yaml"
    spec.write_text("name: r\ntarget: {function: exp2, interval: [0, 1]}\n"
                    "search: {max_ops: 3, population: 8, islands: 2, batch: 4}\n"
                    "budget: {seconds: 60, evaluations: 24}\nworkers: 0\nevaluation: {verify_points: 500}\n")
    out = tmp_path / "o"
    r = run_cli("run", str(spec), "--out", str(out))
    assert r.returncode == 0, r.stderr
    first = json.loads((out / "run.json").read_text())["evaluations"]
    r = run_cli("run", str(spec), "--out", str(out))
    assert r.returncode == 2 and "--resume" in r.stderr  # never overwrites a run silently
    spec.write_text(spec.read_text().replace("evaluations: 24", "evaluations: 48"))
    r = run_cli("run", str(spec), "--out", str(out), "--resume")
    assert r.returncode == 0, r.stderr
    assert "resumed from" in r.stdout
    second = json.loads((out / "run.json").read_text())["evaluations"]
    assert first >= 24 and second >= 48 and second > first
