from dataclasses import dataclass

import numpy as np

from numsearch.search.archive import ParetoArchive
from numsearch.search.selection import crowding, nondominated_ranks, nsga2_survival, rank_and_crowding


@dataclass(frozen=True)
class I:
    error: float
    cost: float
    name: str = ""


def test_ranks_on_hand_made_fronts():
    inds = [I(1e-1, 1), I(1e-3, 3), I(1e-6, 6),       # front 0
            I(1e-2, 3), I(1e-4, 6),                   # front 1
            I(1e-1, 6), I(float("inf"), 0)]           # front 2, and inf error last... but cost 0
    rank, _ = rank_and_crowding(inds)
    assert list(rank[:3]) == [0, 0, 0]
    assert list(rank[3:5]) == [1, 1]
    assert rank[5] == 2
    # inf error at cost 0 is not dominated in cost: it stays on a front of its own cost
    assert rank[6] == 0


def test_crowding_boundaries_infinite_and_interior_ordered():
    F = np.array([[0.0, 0.0], [1.0, 1.0], [1.5, 1.5], [4.0, 4.0]])
    d = crowding(F)
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] > d[2] > 0 or d[2] > d[1] > 0


def test_survival_keeps_whole_fronts_first():
    inds = [I(10.0 ** -k, k) for k in range(5)] + [I(10.0 ** -k * 5, k + 1) for k in range(5)]
    keep = nsga2_survival(inds, 5, np.random.default_rng(0))
    assert set(keep) == set(inds[:5])


def test_nondominated_ranks_duplicates():
    F = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    assert list(nondominated_ranks(F)) == [0, 0, 1]


def test_archive_front():
    a = ParetoArchive()
    for e, c in [(1e-1, 1), (2e-1, 2), (1e-3, 3), (1e-2, 3)]:
        a.add(I(e, c))
    assert [(i.cost, i.error) for i in a.front()] == [(1, 1e-1), (3, 1e-3)]
