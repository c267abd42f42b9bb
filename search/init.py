"""Init strategies: how a search starts (the spec's ``search.init``).

Each entry of ``INITS`` gives the programs sown once at the start (``seeds``,
each bred as it is before any child) and the program that fills an empty
population slot (``fresh``: at the start, and when an island restarts).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..primitives.program import EMPTY, Program
from ..primitives.registry import Registry

from .mutation import MutationContext, random_program


@dataclass(frozen=True)
class InitStrategy:
    name: str
    doc: str
    seeds: Callable[..., tuple]       # (task, max_ops, echo) -> programs sown once
    fresh: Callable[..., Program]     # (rng, ctx, init_ops, seeds) -> a program for an empty slot


INITS: Registry[InitStrategy] = Registry("init strategy")


def _register(name: str, doc: str, fresh, seeds=lambda task, max_ops, echo: ()) -> None:
    INITS.register(name, InitStrategy(name, doc, seeds, fresh))


def _baseline_seeds(task, max_ops: int, echo) -> tuple:
    from ..evaluators.baselines import baseline_programs

    echo("computing the classical approximations to seed the search with (cached on disk after the first run)")
    seeds = tuple(b.program for b in baseline_programs(task, max_ops) if b.ops <= max_ops)
    echo(f"seeding the search with {len(seeds)} classical approximations (init: baselines)")
    return seeds


def _from_seeds(rng: np.random.Generator, ctx: MutationContext, init_ops: int, seeds: tuple) -> Program:
    return seeds[rng.integers(len(seeds))] if seeds else EMPTY


def _template_seeds(task, max_ops: int, echo) -> tuple:
    from .templates import template_programs

    seeds = template_programs(task, max_ops)
    if not seeds:
        echo(f"no reduction template for {task.target} within {max_ops} ops: starting from the empty program")
    else:
        echo(f"seeding the search with {len(seeds)} reduction-template programs (init: template)")
    return seeds


_register("empty", "the empty program f(x) = x", lambda rng, ctx, init_ops, seeds: EMPTY)
_register("random", "random programs of 1 to init_ops inserts",
          lambda rng, ctx, init_ops, seeds: random_program(rng, ctx, int(rng.integers(1, init_ops + 1))))
_register("baselines", "numsearch's classical approximations of the task (Taylor, Padé, minimax "
          "polynomials and rationals in Horner and continued-fraction form)", _from_seeds, _baseline_seeds)
_register("template", "range-reduction templates of the target (search/templates.py: exp, exp2) at every "
          "polynomial degree within max_ops", _from_seeds, _template_seeds)
