"""The front of a run beside classical baselines: a table, JSON, and a plot.

Baselines (``evaluators.baselines``) are built for the run's own task (target,
interval, format, metric, cost model) and scored by the same evaluator on the
same dense grid, so the ``gain`` column (best baseline error at cost <= the
program's, divided by the program's error) compares like with like.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..evaluators.task import Task


def task_of(doc: dict) -> Task:
    """The Task a front.json was scored on."""
    lo, hi = doc["interval"]
    return Task(target=doc["target"], lo=float(lo), hi=float(hi), format=doc["format"], metric=doc["metric"],
                cost_model=doc.get("cost_model", "ops"),
                cost_weights=tuple(sorted(doc.get("cost_weights", {}).items())),
                verify_points=int(doc.get("verify_points", 20000)), binades=bool(doc.get("binades", False)),
                whole=bool(doc.get("whole", False)), beyond=bool(doc.get("beyond", True)))


def _f(v) -> float:
    return float("inf") if isinstance(v, str) else float(v)


@dataclass(frozen=True)
class Row:
    id: int
    cost: float
    ops: int
    error: float
    max_ulp: float | None
    baseline: str | None        # e.g. "minimax deg 4", the best at cost <= this
    baseline_error: float | None
    poly_error: float | None = None   # the minimax polynomial of cost <= this
    error_float64: float | None = None  # real fronts: the error of the float64 code the exporters write
    speed_ratio: float | None = None    # timed entries: median speed ratio vs jax.numpy (> 1: faster)
    speed_iqr: tuple | None = None      # its quartiles

    @property
    def poly_gain(self) -> float | None:
        if self.poly_error is None or not self.error > 0:
            return None
        return self.poly_error / self.error

    @property
    def gain(self) -> float | None:
        if self.baseline_error is None or not self.error > 0:
            return None
        return self.baseline_error / self.error


MAX_BASELINE_OPS = 24   # baselines of more ops take minutes to fit (28 ops: 16 s, growing fast)


def baselines_for(doc: dict, max_cost: float | None = None) -> list:
    """Every classical baseline for the run's task with cost <= max_cost
    (of at most ``MAX_BASELINE_OPS`` ops)."""
    from ..evaluators.baselines import baseline_programs

    front = doc["front"]
    mc = max_cost if max_cost is not None else max((r["cost"] for r in front), default=0)
    # baselines are sized by op count; with weighted costs take enough ops to cover mc
    max_ops = min(int(max(mc, max((r["ops"] for r in front), default=0))), MAX_BASELINE_OPS)
    return [b for b in baseline_programs(task_of(doc), max(max_ops, 2)) if b.cost <= mc]


def _label(b) -> str:
    return f"{b.method} ({b.size[0]},{b.size[1]})" if isinstance(b.size, tuple) else f"{b.method} deg {b.size}"


def rows(doc: dict, baselines: list | None) -> list[Row]:
    out = []
    for r in doc["front"]:
        best = None
        for b in baselines or []:
            if b.cost <= r["cost"] and (best is None or b.error < best.error):
                best = b
        poly = min((b.error for b in baselines or [] if b.method == "minimax" and b.cost <= r["cost"]), default=None)
        ulp, e64, sp = r.get("max_ulp"), r.get("error_float64"), r.get("speed_ratio")
        out.append(Row(r["id"], r["cost"], r["ops"], _f(r["error"]), None if ulp is None else _f(ulp),
                       None if best is None else _label(best), None if best is None else best.error, poly,
                       None if e64 is None else _f(e64), sp,
                       None if sp is None else (r.get("speed_ratio_q25"), r.get("speed_ratio_q75"))))
    return out


def title(doc: dict) -> str:
    lo, hi = doc["interval"]
    return f"{doc['target']} on [{lo:g}, {hi:g}], {doc['format']}, {doc['metric']} error"


def table(doc: dict, rws: list[Row]) -> str:
    """The front as text; a ``real`` front gets a column for its float64 code,
    a timed one (``speed.time``) the speed ratio and a line for ``fastest``."""
    real = doc["format"] == "real"
    timed = "timing" in doc or any(r.speed_ratio is not None for r in rws)
    lines = [title(doc) + f" (max over a dense grid of {doc.get('verify_points', '?')} points)"]
    if real:
        lines.append("error: the program in double-double, as scored; float64 code: as `numsearch export` writes it "
                     "(`--arith dd` keeps the first)")
    lines.append(f"{'id':>3} {'cost':>5} {'ops':>4} {'error':>10}" + (f" {'float64 code':>12}" if real else "")
                 + f" {'max ulp':>9}   {'best baseline at <= cost':<26} "
                 f"{'its error':>10} {'gain':>8}   {'minimax poly':>12} {'gain':>8}"
                 + (f"   {'speed [q25, q75]':<22}" if timed else ""))
    for r in rws:
        ulp = "" if r.max_ulp is None else f"{r.max_ulp:.3g}"
        gain = "" if r.gain is None else f"{r.gain:.3g}x"
        be = "" if r.baseline_error is None else f"{r.baseline_error:.3e}"
        pe = "" if r.poly_error is None else f"{r.poly_error:.3e}"
        pg = "" if r.poly_gain is None else f"{r.poly_gain:.3g}x"
        e64 = "not recorded" if r.error_float64 is None else f"{r.error_float64:.3e}"
        lines.append(f"{r.id:>3} {r.cost:>5g} {r.ops:>4} {r.error:>10.3e}" + (f" {e64:>12}" if real else "")
                     + f" {ulp:>9}   {r.baseline or '-':<26} "
                     f"{be:>10} {gain:>8}   {pe:>12} {pg:>8}" + (f"   {_speed(r.speed_ratio, r.speed_iqr)}" if timed else ""))
    if timed:
        lines.append(_fastest_line(doc))
    return "\n".join(lines)


def _speed(ratio, iqr) -> str:
    if ratio is None:
        return "-"
    q = "" if not iqr or None in iqr else f" [{iqr[0]:.3g}, {iqr[1]:.3g}]"
    return f"{ratio:.3g}x{q}"


def _fastest_line(doc: dict) -> str:
    """front.json's ``fastest``, in words (what ``export --pick best`` takes)."""
    t, f = doc.get("timing", {}), doc.get("fastest")
    how = (f"speed: reference time / program time, the {t.get('exporter', '?')} export against "
           f"{t.get('reference', 'jax.numpy')} on {t.get('device', '?')} (> 1: faster)"
           + ("; the timed code assumes x in the interval (speed.inputs: domain)" if t.get("inputs") == "domain"
              else ""))
    if f is None:
        return f"{how}; no timed program meets error {doc.get('error_target')} on the dense grid"
    where = f"id {f['id']}" if f.get("id") is not None else "not on the front (a program as cheap is more accurate)"
    return (f"{how}\nfastest meeting error {doc.get('error_target')}: {where}, cost {f['cost']:g}, "
            f"error {_f(f['error']):.3e}, speed {_speed(f.get('speed_ratio'), (f.get('speed_ratio_q25'), f.get('speed_ratio_q75')))}")


def plot(doc: dict, baselines: list, path: str) -> None:
    """Error (log) against cost: the front as a step line, each baseline method as markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.2), dpi=120)
    front = [(r["cost"], _f(r["error"])) for r in doc["front"] if 0 < _f(r["error"]) < float("inf")]
    if front:
        xs, ys = zip(*front)
        ax.step(xs, ys, where="post", color="C3", lw=1.5, alpha=0.6)
        ax.plot(xs, ys, "o", color="C3", ms=7, zorder=5,
                label="numsearch front" + (" (double-double)" if doc["format"] == "real" else ""))
        for x, y in front:
            ax.annotate(f"{y:.1e}", (x, y), textcoords="offset points", xytext=(6, 4), fontsize=7, color="C3")
    f64 = [(r["cost"], _f(r["error_float64"])) for r in doc["front"] if 0 < _f(r.get("error_float64", 0)) < float("inf")]
    if doc["format"] == "real" and f64:
        ax.plot(*zip(*f64), "o", mfc="none", color="C3", ms=10, label="front, as float64 code")
    markers = {"minimax": "s", "rational_minimax": "D", "taylor": "v", "pade": "^", "fpminimax": "x",
               "rational_cf": "P"}
    names = {"minimax": "minimax polynomial", "rational_minimax": "minimax rational", "taylor": "Taylor",
             "pade": "Padé", "fpminimax": "minimax poly, rounded coeffs",
             "rational_cf": "minimax rational, continued fraction"}
    for i, m in enumerate(sorted({b.method for b in baselines})):
        pts = sorted((b.cost, b.error) for b in baselines if b.method == m and b.error > 0)
        if pts:
            bx, by = zip(*pts)
            ax.plot(bx, by, markers.get(m, "."), ls=":", lw=0.8, color=f"C{i % 3}" if i < 3 else f"C{i + 1}",
                    ms=6, alpha=0.85, label=names.get(m, m))
    ax.set_yscale("log")
    ax.set_xlabel("cost (operations that depend on x)" if doc.get("cost_model", "ops") == "ops" else "cost")
    ax.set_ylabel(f"max {doc['metric']} error")
    ax.set_title(title(doc), fontsize=11)
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.1)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
