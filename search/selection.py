"""Selection over (error, cost), both minimised: NSGA-II (Deb et al. 2002).

Objectives are (log10 error, cost); an infinite or NaN error ranks last.
``SELECTORS`` maps a YAML name to a survival function
``(individuals, n, rng) -> survivors``; parents are drawn by binary tournament
on (rank, -crowding).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..primitives.registry import Registry


def objectives(inds) -> np.ndarray:
    err = np.array([i.error for i in inds], dtype=float)
    err = np.where(np.isfinite(err), err, np.inf)
    with np.errstate(divide="ignore"):
        le = np.log10(np.maximum(err, 1e-300))
    le[~np.isfinite(le)] = 1e300
    return np.column_stack([le, [float(i.cost) for i in inds]])


def nondominated_ranks(F: np.ndarray) -> np.ndarray:
    """Front index of each row (0 = non-dominated), by repeated peeling."""
    n = len(F)
    le = F[:, None, :] <= F[None, :, :]
    lt = F[:, None, :] < F[None, :, :]
    dom = le.all(-1) & lt.any(-1)  # dom[i, j]: i dominates j
    count = dom.sum(0)
    rank = np.full(n, -1)
    r = 0
    current = np.flatnonzero(count == 0)
    while current.size:
        rank[current] = r
        count = count - dom[current].sum(0)
        count[rank >= 0] = -1
        current = np.flatnonzero(count == 0)
        r += 1
    return rank


def crowding(F: np.ndarray) -> np.ndarray:
    """Crowding distance within one front (boundary points get inf)."""
    n, m = F.shape
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        o = np.argsort(F[:, j], kind="stable")
        span = F[o[-1], j] - F[o[0], j]
        d[o[0]] = d[o[-1]] = np.inf
        if span > 0:
            d[o[1:-1]] += (F[o[2:], j] - F[o[:-2], j]) / span
    return d


def rank_and_crowding(inds):
    F = objectives(inds)
    rank = nondominated_ranks(F)
    crowd = np.zeros(len(inds))
    for r in np.unique(rank):
        idx = np.flatnonzero(rank == r)
        crowd[idx] = crowding(F[idx])
    return rank, crowd


def nsga2_survival(inds, n: int, rng: np.random.Generator):
    """Keep n: whole fronts in rank order, the last one cut by crowding."""
    if len(inds) <= n:
        return list(inds)
    rank, crowd = rank_and_crowding(inds)
    order = np.lexsort((-crowd, rank))
    return [inds[i] for i in order[:n]]


def tournament(inds, k: int, rng: np.random.Generator):
    """k parents by binary tournament on (rank, -crowding)."""
    rank, crowd = rank_and_crowding(inds)
    a = rng.integers(len(inds), size=k)
    b = rng.integers(len(inds), size=k)
    better = (rank[a] < rank[b]) | ((rank[a] == rank[b]) & (crowd[a] >= crowd[b]))
    return [inds[i] for i in np.where(better, a, b)]


SELECTORS: Registry[Callable] = Registry("selector")
SELECTORS.register("nsga2", nsga2_survival)
