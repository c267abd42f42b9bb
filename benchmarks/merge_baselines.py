"""Merge numsearch's classical approximations into fronts made before they took
part in every search (``search.baselines``, ``search/classical.py``): at each
cost the front keeps the better of its program and the best baseline there,
both scored on the front's own dense verify grid; a merged entry says which
baseline it is (``source``).  Prints what changed; --write rewrites the files
(nothing else in them changes).  It refuses a front whose recorded errors it
does not reproduce on that grid.

    python benchmarks/merge_baselines.py runs/*.front.json --write
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numsearch.evaluators.baselines import baseline_programs  # noqa: E402
from numsearch.evaluators.task import TaskData  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402
from numsearch.search.pareto import task_of  # noqa: E402
from numsearch.search.rundir import load_front, merge_classical, write_json  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fronts", nargs="+", help="front.json files")
    ap.add_argument("--write", action="store_true", help="rewrite each front.json")
    a = ap.parse_args(argv)
    for path in a.fronts:
        doc = load_front(path)
        task = task_of(doc)
        if task.whole:
            print(f"{path}: whole-domain target, no classical approximations: unchanged")
            continue
        vdata = TaskData(task, task.verify_points)
        for r in doc["front"][:3]:
            e = vdata.error(parse_program(r["program"]))
            if abs(e - float(r["error"])) > 1e-9 * abs(e):
                print(f"{path}: entry {r['id']} scores {e!r} here, {r['error']!r} in the file: other grid; skipped")
                break
        else:
            max_ops = max(r["ops"] for r in doc["front"])
            merged = merge_classical(doc["front"], baseline_programs(task, max_ops, data=vdata), vdata)
            new = [r for r in merged if "source" in r]
            print(f"{path}: {len(doc['front'])} entries -> {len(merged)}; from baselines: "
                  + (", ".join(f"cost {r['cost']:g} {r['source']} {float(r['error']):.4g}" for r in new) or "none"))
            if a.write and merged != doc["front"]:
                doc["front"] = merged
                write_json(Path(path), doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
