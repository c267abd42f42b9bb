"""The float64 figure of a `real` front: every program's error in double-double
(as the search scored it, front.json's ``error``) beside the error of the
float64 code the exporters write (``error_float64``) and of the double-double
export's approx() (result rounded to float64), on the front's dense
verify grid against the same mpmath reference.  With --write, sets
``error_float64`` in each front.json in place (after ``error``) and changes
nothing else; it refuses a front whose ``error`` it does not reproduce (a
different grid or reference).

    python benchmarks/front_float64.py runs/exp2_real.front.json
    python benchmarks/front_float64.py runs/*_real.front.json --write
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numsearch.evaluators.task import TaskData  # noqa: E402
from numsearch.primitives.program import parse_program  # noqa: E402
from numsearch.search.pareto import task_of  # noqa: E402
from numsearch.search.rundir import float64_error, load_front, write_json  # noqa: E402


def with_field(rec: dict, key: str, value, after: str = "error") -> dict:
    """rec with ``key`` set to value, placed right after ``after``."""
    out = {}
    for k, v in rec.items():
        if k != key:
            out[k] = v
        if k == after:
            out[key] = value
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fronts", nargs="+", help="front.json files or run directories")
    ap.add_argument("--write", action="store_true", help="set error_float64 in each file in place")
    a = ap.parse_args(argv)
    status = 0
    for path in a.fronts:
        doc = load_front(path)
        if doc["format"] != "real":
            print(f"{path}: format {doc['format']}, not real: no float64 figure (skipped)")
            continue
        data = TaskData(task_of(doc), int(doc["verify_points"]))
        lo, hi = doc["interval"]
        print(f"{path}: {doc['target']} on [{lo:g}, {hi:g}], max {doc['metric']} error on {len(data.x)} points")
        print(f"{'ops':>4} {'cost':>5} {'double-double':>14} {'float64 code':>13} {'ratio':>7} {'dd code':>10}")
        rows, same = [], True
        for r in doc["front"]:
            p = parse_program(r["program"])
            e, field, edd = data.error(p), float64_error(p, data), data.error(p, to_float64=True)
            e64 = float(field)  # (field is the string "inf" where not finite)
            same = same and e == float(r["error"])
            print(f"{r['ops']:>4} {r['cost']:>5g} {e:>14.3e} {e64:>13.3e} {e64 / e if e else float('nan'):>7.3g} "
                  f"{edd:>10.3e}"
                  + ("" if e == r["error"] else f"   (front.json says {r['error']})"))
            rows.append(with_field(r, "error_float64", field))
        if a.write:
            if not same:
                print(f"{path}: not written: its error figures are not reproduced on this grid")
                status = 1
                continue
            p = Path(path)
            write_json(p / "front.json" if p.is_dir() else p, {**doc, "front": rows})
            print(f"wrote error_float64 into {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
