"""Faults as normal events: locks, resumes, kills, crashes, signals.

Real processes and real signals: runs are started as the ``numsearch``
command in subprocesses and killed with SIGKILL or SIGTERM.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import numsearch
from numsearch.search.api import spec as make_spec
from numsearch.search.backend import SerialBackend
from numsearch.search.driver import run_search
from numsearch.search.lock import RunLock

ROOT = Path(__file__).resolve().parents[1]

SPEC = """name: f
target: {function: exp2, interval: [0, 1]}
search: {max_ops: 5, population: 16, islands: 2, batch: 4}
budget: {seconds: 120, evaluations: %d}
evaluation: {verify_points: 300}
workers: 0
"""


def start(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "numsearch.search.cli", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for(path: Path, timeout=60):
    t0 = time.monotonic()
    while not path.exists():
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.05)


def front_points(out: Path):
    return [(r["cost"], r["error"]) for r in json.loads((out / "front.json").read_text())["front"]]


def test_second_run_into_a_locked_directory_is_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    with RunLock(out):
        with pytest.raises(numsearch.UserError, match="in use by another run"):
            numsearch.run(SPEC % 8, out, workers=0, force=True)
    numsearch.run(SPEC % 8, out, workers=0, force=True)   # free again once released


def test_two_concurrent_commands_one_refused(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC % 100000)
    out = tmp_path / "o"
    first = start(["run", spec, "--out", out, "--seconds", "30"])
    try:
        wait_for(out / "checkpoint.json")
        second = subprocess.run([sys.executable, "-m", "numsearch.search.cli", "run", str(spec), "--out", str(out),
                                 "--force"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "in use by another run" in second.stderr
        assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
    assert first.returncode == 130 and "consistent" in err and "Traceback" not in err
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize("when", ["start", "random"])
def test_sigkill_then_resume_loses_nothing(tmp_path, when):
    """Killed at once after the start checkpoint (before any interval one) or at a random moment."""
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC % 100000 + ("checkpoint_every: 0.3\n" if when == "random" else ""))
    out = tmp_path / "o"
    p = start(["run", spec, "--out", out, "--seconds", "60"])
    wait_for(out / "checkpoint.json")
    if when == "random":
        time.sleep(random.uniform(0.5, 3.0))
    p.kill()
    p.wait(timeout=30)
    ck = json.loads((out / "checkpoint.json").read_text())
    before = front_points(out)
    evaluated = ck["search"]["evaluated"]
    spec.write_text(SPEC % (evaluated + 24))
    r = subprocess.run([sys.executable, "-m", "numsearch.search.cli", "run", str(spec), "--out", str(out), "--resume"],
                       cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert f"resumed from {out / 'checkpoint.json'}: {evaluated} evaluations" in r.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["evaluations"] >= evaluated + 24 and run["status"].startswith("finished")
    after = front_points(out)
    for c, e in before:
        assert any(c2 <= c and e2 <= e * (1 + 1e-9) for c2, e2 in after), (c, e, after)


def test_resume_refusals(tmp_path, capsys):
    out = tmp_path / "o"
    numsearch.run(SPEC % 8, out, workers=0)
    with pytest.raises(numsearch.UserError, match=r"differs from the run's in target.function \('exp'"):
        numsearch.run((SPEC % 16).replace("exp2", "exp"), out, workers=0, resume=True)
    with pytest.raises(numsearch.UserError, match="differs from the run's in search.max_ops"):
        numsearch.run((SPEC % 16).replace("max_ops: 5", "max_ops: 4"), out, workers=0, resume=True)
    ck = out / "checkpoint.json"
    ck.write_text(ck.read_text()[:100])
    with pytest.raises(numsearch.UserError, match="not valid JSON: truncated or damaged"):
        numsearch.run(SPEC % 16, out, workers=0, resume=True)
    ck.write_text(json.dumps({"seconds": 1, "search": {"islands": "x"}}))
    with pytest.raises(numsearch.UserError, match="damaged"):
        numsearch.run(SPEC % 16, out, workers=0, resume=True)
    ck.unlink()
    with pytest.raises(numsearch.UserError, match="has no checkpoint.json"):
        numsearch.run(SPEC % 16, out, workers=0, resume=True)


def test_resume_accepts_a_checkpoint_without_a_newer_field_left_at_its_default(tmp_path):
    """A checkpoint written before a field existed (here task.beyond) resumes where the
    spec leaves that field at its default, and is refused where it does not."""
    out = tmp_path / "o"
    numsearch.run(SPEC % 8, out, workers=0)
    ck = out / "checkpoint.json"
    st = json.loads(ck.read_text())
    del st["fingerprint"]["task"]["beyond"]
    ck.write_text(json.dumps(st))
    numsearch.run(SPEC % 16, out, workers=0, resume=True)
    st = json.loads(ck.read_text())
    del st["fingerprint"]["task"]["binades"]
    st["fingerprint"]["task"]["metric"] = "absolute"
    ck.write_text(json.dumps(st))
    with pytest.raises(numsearch.UserError, match="differs from the run's in target.metric"):
        numsearch.run(SPEC % 24, out, workers=0, resume=True)


def test_crash_is_recorded_in_the_run_directory(tmp_path):
    s = make_spec(SPEC % 1000)
    out = tmp_path / "o"

    def boom(elapsed, search):
        if search.evaluated >= 8:
            raise RuntimeError("disk on fire")
    with pytest.raises(RuntimeError):
        run_search(s, SerialBackend(s.task, s.seed, s.fit), out, echo=lambda line: None, observer=boom)
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "crashed: RuntimeError: disk on fire"
    assert "Traceback" in (out / "log.txt").read_text()


def test_children_in_flight_at_a_stop_are_bred_again(tmp_path):
    """A stop with batches in flight keeps their children to breed, not as seen."""
    s = make_spec(SPEC % 1000)
    from numsearch.search.engine import Search
    from numsearch.search.fhash import probe_points
    import numpy as np
    search = Search(s.search, probe_points(0, 1), "float64", np.random.default_rng(0))
    kids, _ = search.ask(4)
    hashes = {search._hash(k) for k in kids}
    st = search.state(pending=kids)
    assert not hashes & {h for h, _ in st["seen"]}
    again = Search(s.search, probe_points(0, 1), "float64", np.random.default_rng(1))
    again.restore(json.loads(json.dumps(st)))
    first, _ = again.ask(4)
    assert [k.text() for k in first] == [k.text() for k in kids]


def test_sigterm_at_any_moment_of_startup_is_clean(tmp_path):
    """SIGTERM while imports, spec checks or Ray's start-up run: one line, status 130, no dump."""
    spec = tmp_path / "s.yaml"
    spec.write_text((SPEC % 100000).replace("workers: 0", "workers: 1"))
    for delay in (0.5, 2.0, 4.0):
        p = start(["run", spec, "--out", tmp_path / f"o{delay}"], start_new_session=True)
        time.sleep(delay)
        p.send_signal(signal.SIGTERM)
        try:
            _, err = p.communicate(timeout=90)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        assert p.returncode in (130, -signal.SIGTERM), (delay, p.returncode, err[-2000:])
        assert err.count("\n") <= 2, err[-2000:]
        assert "Traceback" not in err and "Check failed" not in err and "*** " not in err, err[-2000:]
