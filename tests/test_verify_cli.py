"""A small bfloat16 search, then `numsearch verify`: its exhaustive figure must
equal the max ULP in front.json (the bfloat16 grid is every value of the interval)."""
import json

from conftest import cli


def test_bfloat16_run_then_exhaustive_verify(tmp_path):
    spec = tmp_path / "bf16.yaml"
    spec.write_text("name: bf16\ntarget: {function: exp2, interval: [0, 1], format: bfloat16, metric: ulp}\n"
                    "search: {ops: [add, mul, fma], max_ops: 4, population: 16, islands: 2, batch: 4}\n"
                    "budget: {seconds: 60, evaluations: 120}\nworkers: 0\n")
    out = tmp_path / "run"
    r = cli("run", spec, "--out", out)
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "front.json").read_text())
    import ml_dtypes
    import numpy as np
    with np.errstate(invalid="ignore"):  # NaN bit patterns
        every = np.arange(1 << 16, dtype=np.uint16).view(ml_dtypes.bfloat16).astype(np.float64)
    n = int(np.sum((every >= 0) & (every <= 1)) - 1)  # -0.0 and +0.0 are one value
    assert doc["verify_points"] == n  # the dense grid is every bfloat16 value in [0, 1]
    row = doc["front"][-1]
    r = cli("verify", out, "--pick", f"id={row['id']}")
    assert r.returncode == 0, r.stderr
    assert f"exhaustive: all {n} bfloat16 values" in r.stdout
    line = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("max ulp error"))
    assert float(line.split()[3]) == float(f"{row['max_ulp']:.4g}"), (r.stdout, row)
    assert float(f"{row['error']:.4g}") == float(f"{row['max_ulp']:.4g}")  # the run's metric is ulp
