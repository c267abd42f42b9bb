"""Cost models, looked up by the name the YAML uses (``cost.model``).

``ops``: instructions that depend on x (constant-only work is free), each
weighted by the op's cost or the YAML's per-op ``weights``.  Measured JAX/XLA
time is reported by ``numsearch verify`` rather than used inside the loop.
"""
from __future__ import annotations

from typing import Callable

from ..primitives.registry import Registry

COST_MODELS: Registry[Callable] = Registry("cost model")


def _ops_cost(program, weights: dict[str, float] | None = None) -> float:
    c = program.cost(weights)
    return int(c) if float(c).is_integer() else c


COST_MODELS.register("ops", _ops_cost)
