"""Classical approximations take part in every search.

numsearch computes classical approximations of each task (``evaluators.
baselines``: Taylor, Padé, minimax polynomials and rationals in Horner and
continued-fraction form).  With ``search.baselines`` (the default) those of at
most ``max_ops`` ops are sown at the start of the run whatever its ``init``,
so evolution can build on them, and front.json takes, at each cost, the
better of the search's program and the best classical one there (both scored
on the same dense grid): the front is never worse than a baseline at any
cost.  Not for whole-domain targets (the baselines are polynomials on the
interval, with no range reduction).
"""
from __future__ import annotations


def run_baselines(spec, data=None) -> tuple:
    """The task's baselines with ops <= max_ops (``evaluators.baselines.Baseline``,
    scored on the verify grid ``data``), or () when ``search.baselines`` is off or
    the target is a whole domain."""
    task = spec.task
    if not spec.search.baselines or task.whole:
        return ()
    from ..evaluators.baselines import baseline_programs

    return tuple(b for b in baseline_programs(task, spec.search.max_ops, data=data) if b.ops <= spec.search.max_ops)


def seeds_with(seeds: tuple, baselines: tuple) -> tuple:
    """``seeds`` followed by the baselines' programs not among them."""
    have = {p.text() for p in seeds}
    extra = []
    for b in baselines:
        t = b.program.text()
        if t not in have:
            have.add(t)
            extra.append(b.program)
    return tuple(seeds) + tuple(extra)
