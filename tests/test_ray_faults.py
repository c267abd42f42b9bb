"""Ray faults and topology: a killed evaluator actor, a two-node cluster.

Real Ray: actors are killed with ``ray.kill`` (as a lost node or an OOM kill
would end them) and the cluster is ``ray.cluster_utils.Cluster`` with two
raylets on this machine.
"""
import json

import pytest

ray = pytest.importorskip("ray")

import numsearch  # noqa: E402
from numsearch.search.api import spec as make_spec  # noqa: E402
from numsearch.search.driver import run_search  # noqa: E402
from numsearch.search.ray_driver import RayBackend  # noqa: E402

SPEC = """name: rf
target: {function: exp2, interval: [0, 1]}
search: {max_ops: 4, population: 16, islands: 2, batch: 4}
budget: {seconds: 120, evaluations: %d}
evaluation: {verify_points: 300}
workers: 2
"""


def test_killed_actor_is_replaced_and_its_batch_redone(tmp_path):
    s = make_spec(SPEC % 80)
    backend = RayBackend(s.task, 2, s.seed, fit=s.fit)
    killed = []
    told = []

    def kill_one(elapsed, search):
        told.append(search.evaluated)
        if not killed and search.evaluated >= 8 and backend.inflight:
            victim = next(iter(backend.inflight.values()))[0]   # an actor with a batch in flight
            ray.kill(victim, no_restart=True)
            killed.append(victim)
    lines = []
    stats, search = run_search(s, backend, tmp_path / "o", echo=lines.append, observer=kill_one)
    assert killed and stats.status.startswith("finished"), stats.status
    f = stats.faults
    assert f["actors_lost"] >= 1 and f["batches_redone"] >= 1 and f["candidates_lost"] == 0
    assert f["candidates_redone"] == 4 * f["batches_redone"]
    assert any(ln.startswith("evaluator faults: actors_lost 1") for ln in lines), lines
    run = json.loads((tmp_path / "o" / "run.json").read_text())
    assert run["status"].startswith("finished") and run["actors_lost"] >= 1
    assert search.evaluated >= 80
    assert not ray.is_initialized()


def test_two_node_cluster_run(tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        with pytest.raises(numsearch.UserError, match="workers: 3 evaluator actors asked, the Ray cluster has 2"):
            numsearch.run(SPEC % 40, tmp_path / "refused", workers=3, address=cluster.address)
        front = numsearch.run(SPEC % 40, tmp_path / "o", workers=2, address=cluster.address)
        assert len(front) >= 2
        run = json.loads((tmp_path / "o" / "run.json").read_text())
        assert run["status"].startswith("finished") and run["evaluations"] >= 40
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
