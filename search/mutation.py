"""Mutations: each takes a program and returns a valid program, simplified and
with constant-only instructions folded into constants (or None when it does
not apply).  Registered by the names the YAML uses.

insert            put a new op on an edge: a use of r becomes op(r, other args); half
                  the time op(r, c) with c near the op's identity (r + ~0, r * ~1)
grow              two ops at once on an edge: r becomes op1(r, op2(a, b))
square            r becomes r * r on one edge (often the output)
delete            remove an op, its uses take one of its args
rewire            point one argument at another earlier value, x or a constant
change_op         swap an op for another (args added/dropped to fit the arity)
perturb_constant  scale a constant by exp(N(0, 0.5)), flip its sign, or redraw it
new_constant      point one argument at a fresh constant
pole              r becomes r + c/(x + s) on one edge: a simple pole term; at the
                  innermost x + s of a continued fraction it adds a level
merge             two instructions alike but for their constants (x + c1, x + c2)
                  become one, the uses of the later taking the earlier: one op less,
                  constants refitted (common subexpressions up to constants); also
                  x + (c' + r) becomes u + r for an earlier u = x + c
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..primitives.ops import OPS
from ..primitives.registry import Registry

from .fitting import random_constants
from ..primitives.program import Instr, Program

MUTATIONS: Registry[Callable] = Registry("mutation")

# identity values of the trailing args: op(a, *identity) == a
_NEAR_IDENTITY = {"add": (0.0,), "sub": (0.0,), "mul": (1.0,), "div": (1.0,), "fma": (1.0, 0.0)}


@dataclass(frozen=True)
class MutationContext:
    ops: tuple[str, ...] = ("add", "sub", "mul", "div")
    weights: dict = field(default_factory=dict)  # mutation name -> relative weight


class _Draft:
    """A mutable copy of a program used while mutating."""

    def __init__(self, p: Program):
        self.consts = list(p.consts)
        self.instrs = [[i.op, list(i.args)] for i in p.instrs]
        self.out = p.out

    def new_const(self, rng, value: float | None = None) -> str:
        self.consts.append(float(random_constants(rng, 1)[0]) if value is None else value)
        return f"c{len(self.consts) - 1}"

    def random_ref(self, rng, pos: int, exclude: str | None = None) -> str:
        """x, a constant (existing or new) or a value defined before ``pos``."""
        for _ in range(8):
            u = rng.random()
            if u < 0.3:
                r = "x"
            elif u < 0.55 and pos > 0:
                r = f"v{rng.integers(pos)}"
            elif u < 0.75 and self.consts:
                r = f"c{rng.integers(len(self.consts))}"
            else:
                r = self.new_const(rng)
            if r != exclude:
                return r
        return "x" if exclude != "x" else self.new_const(rng)

    def shift(self, start: int, delta: int, frm: int = 0) -> None:
        """Renumber vK (K >= start) by delta in instructions from ``frm`` on and the output."""
        f = lambda r: f"v{int(r[1:]) + delta}" if r[0] == "v" and int(r[1:]) >= start else r
        for ins in self.instrs[frm:]:
            ins[1] = [f(a) for a in ins[1]]
        self.out = f(self.out)

    def build(self) -> Program:
        p = Program(tuple(self.consts), tuple(Instr(o, tuple(a)) for o, a in self.instrs), self.out)
        return p.fold_constants()


def _pick_edge(d: _Draft, rng, output_bias: float = 0.0):
    """A use of a value: (k, j) = arg j of instruction k, or (None, None) for the
    output (chosen with probability ``output_bias``, else uniformly with the rest).
    Returns (k, j, pos, old): pos is where a new instruction goes, old the value used."""
    sites = [(k, j) for k, ins in enumerate(d.instrs) for j in range(len(ins[1]))]
    if not sites or rng.random() < output_bias:
        k, j = None, None
    else:
        sites.append((None, None))
        k, j = sites[rng.integers(len(sites))]
    pos = len(d.instrs) if k is None else k
    return k, j, pos, (d.out if k is None else d.instrs[k][1][j])


def _splice(d: _Draft, k, j, pos: int, new: list) -> None:
    """Insert instructions ``new`` at pos; the edge (k, j) then uses the last of them."""
    d.shift(pos, len(new), frm=pos)
    d.instrs[pos:pos] = new
    last = f"v{pos + len(new) - 1}"
    if k is None:
        d.out = last
    else:
        d.instrs[k + len(new)][1][j] = last


def _register(name):
    def deco(fn):
        MUTATIONS.register(name, fn)
        return fn
    return deco


@_register("insert")
def insert(p: Program, rng: np.random.Generator, ctx: MutationContext):
    d = _Draft(p)
    k, j, pos, old = _pick_edge(d, rng)
    op = OPS[ctx.ops[rng.integers(len(ctx.ops))]]
    if op.name in _NEAR_IDENTITY and rng.random() < 0.5:
        # near-identity: op(old, c) with c close to the op's identity, so the
        # child starts next to its parent's (fitted) function
        args = [old] + [d.new_const(rng, v + float(rng.normal(0, 1e-3))) for v in _NEAR_IDENTITY[op.name]]
    else:
        args = [d.random_ref(rng, pos) for _ in range(op.arity)]
        args[rng.integers(op.arity)] = old
    _splice(d, k, j, pos, [[op.name, args]])
    return d.build()


@_register("grow")
def grow(p: Program, rng: np.random.Generator, ctx: MutationContext):
    """Two ops at once on an edge: r becomes op1(r, op2(a, b)) (or op1(op2(a, b), r)),
    a and b drawn from r, x, constants and earlier values.  Reaches shapes such
    as r + c/r that need two inserts whose first alone helps nothing."""
    d = _Draft(p)
    k, j, pos, old = _pick_edge(d, rng)
    binary = [o for o in ctx.ops if OPS[o].arity >= 2]
    if not binary:
        return None
    op1, op2 = (OPS[binary[i]] for i in rng.integers(len(binary), size=2))
    inner = [old if rng.random() < 0.4 else d.random_ref(rng, pos) for _ in range(op2.arity)]
    outer = [d.random_ref(rng, pos) for _ in range(op1.arity)]
    slot = int(rng.integers(op1.arity))
    outer[slot] = old
    outer[(slot + 1) % op1.arity] = f"v{pos}"
    _splice(d, k, j, pos, [[op2.name, inner], [op1.name, outer]])
    return d.build()


@_register("square")
def square(p: Program, rng: np.random.Generator, ctx: MutationContext):
    """r becomes r * r on one edge (the output half the time): squaring halves
    what the rest must do for functions with f(x) = g(x)^2, and is one op."""
    if "mul" not in ctx.ops:
        return None
    d = _Draft(p)
    k, j, pos, old = _pick_edge(d, rng, output_bias=0.5)
    _splice(d, k, j, pos, [["mul", [old, old]]])
    return d.build()


def squared(p: Program) -> Program:
    """p with its output squared (one mul more): the ``square`` mutation at the output."""
    return Program(p.consts, p.instrs + (Instr("mul", (p.out, p.out)),), f"v{len(p.instrs)}").fold_constants()


@_register("pole")
def pole(p: Program, rng: np.random.Generator, ctx: MutationContext):
    """r becomes r + c/(x + s) on one edge (c near 0 half the time, so the child
    starts next to its parent): partial-fraction terms, and one more level of a
    continued fraction when the edge is its innermost x + s (three ops)."""
    if not {"add", "div"} <= set(ctx.ops):
        return None
    d = _Draft(p)
    k, j, pos, old = _pick_edge(d, rng)
    c = d.new_const(rng, float(rng.normal(0, 1e-3)) if rng.random() < 0.5 else None)
    s = d.new_const(rng)
    _splice(d, k, j, pos, [["add", ["x", s]], ["div", [c, f"v{pos}"]], ["add", [old, f"v{pos + 1}"]]])
    return d.build()


def _remove(d: _Draft, k: int, repl: str) -> None:
    """Drop instruction k; its uses take ``repl`` (defined before k)."""
    me = f"v{k}"
    for ins in d.instrs[k + 1:]:
        ins[1] = [repl if a == me else a for a in ins[1]]
    if d.out == me:
        d.out = repl
    del d.instrs[k]
    d.shift(k + 1, -1, frm=k)


@_register("delete")
def delete(p: Program, rng, ctx):
    if not p.instrs:
        return None
    d = _Draft(p)
    k = int(rng.integers(len(d.instrs)))
    _remove(d, k, d.instrs[k][1][rng.integers(len(d.instrs[k][1]))])
    return d.build()


def _shape(op: str, args: list) -> tuple:
    """An instruction with its constants as wildcards (commutative pairs sorted)."""
    key = ["c" if a[0] == "c" else a for a in args]
    if OPS[op].commutative:
        key[:2] = sorted(key[:2])
    return op, tuple(key)


def _hidden_shift(p: Program, j: int):
    """(w, r) if instruction j is x + w with w = c + r, or w + r with w = x + c
    (adds in any order, c a constant, r no constant), else None."""
    ins = p.instrs[j]
    if ins.op != "add":
        return None
    for a, w in (ins.args, ins.args[::-1]):
        if w[0] != "v" or p.instrs[int(w[1:])].op != "add":
            continue
        inner = p.instrs[int(w[1:])].args
        for c, r in (inner, inner[::-1]):
            if c[0] == "c" and r[0] != "c":
                if a == "x" and r != "x":
                    return w, r               # x + (c + r)
                if r == "x" and a[0] != "c":
                    return w, a               # (x + c) + a
    return None


def merges(p: Program) -> list[Program]:
    """Every program ``merge`` can make of p: one per pair of alike instructions,
    and one per sum x + c' + r (in any grouping) and earlier u = x + c, which
    becomes u + r."""
    shapes = [_shape(i.op, i.args) for i in p.instrs]
    shifts = [i for i, s in enumerate(shapes) if s == ("add", ("c", "x"))]
    out = []
    for j in range(len(shapes)):
        for i in range(j):
            if shapes[i] == shapes[j]:
                d = _Draft(p)
                _remove(d, j, f"v{i}")
                out.append(d.build())
        hidden = _hidden_shift(p, j)
        for u in shifts if hidden else ():
            if u < j and f"v{u}" not in hidden:
                d = _Draft(p)
                d.instrs[j][1] = [f"v{u}", hidden[1]]   # the inner add is dropped if unused
                out.append(d.build())
    return out


@_register("merge")
def merge(p: Program, rng, ctx):
    options = merges(p)
    return options[rng.integers(len(options))] if options else None


def _replace_arg(p: Program, rng, new_ref):
    """Point one random argument at ``new_ref(draft, k, current)``."""
    if not p.instrs:
        return None
    d = _Draft(p)
    k = int(rng.integers(len(d.instrs)))
    j = int(rng.integers(len(d.instrs[k][1])))
    d.instrs[k][1][j] = new_ref(d, k, d.instrs[k][1][j])
    return d.build()


@_register("rewire")
def rewire(p: Program, rng, ctx):
    return _replace_arg(p, rng, lambda d, k, cur: d.random_ref(rng, k, exclude=cur))


@_register("new_constant")
def new_constant(p: Program, rng, ctx):
    return _replace_arg(p, rng, lambda d, k, cur: d.new_const(rng))


@_register("change_op")
def change_op(p: Program, rng, ctx):
    if not p.instrs:
        return None
    d = _Draft(p)
    k = int(rng.integers(len(d.instrs)))
    choices = [o for o in ctx.ops if o != d.instrs[k][0]]
    if not choices:
        return None
    op = OPS[choices[rng.integers(len(choices))]]
    args = d.instrs[k][1]
    if len(args) > op.arity:
        keep = sorted(rng.choice(len(args), op.arity, replace=False))
        args = [args[i] for i in keep]
    while len(args) < op.arity:
        args.append(d.random_ref(rng, k))
    d.instrs[k] = [op.name, args]
    return d.build()


@_register("perturb_constant")
def perturb_constant(p: Program, rng, ctx):
    if not p.consts:
        return None
    d = _Draft(p)
    i = int(rng.integers(len(d.consts)))
    u = rng.random()
    if u < 0.6:
        d.consts[i] *= float(np.exp(rng.normal(0, 0.5)))
    elif u < 0.8:
        d.consts[i] = -d.consts[i]
    else:
        d.consts[i] = float(random_constants(rng, 1)[0])
    return d.build()


DEFAULT_WEIGHTS = {"insert": 3.0, "grow": 1.5, "square": 0.5, "delete": 1.5, "rewire": 2.0, "change_op": 1.5,
                   "perturb_constant": 1.0, "new_constant": 1.0, "merge": 0.5, "pole": 1.0}


def mutate(p: Program, rng: np.random.Generator, ctx: MutationContext, tries: int = 20) -> Program:
    """Apply one registered mutation, chosen by weight; retry until the program changes."""
    names = [n for n in MUTATIONS if ctx.weights.get(n, DEFAULT_WEIGHTS.get(n, 1.0)) > 0]
    w = np.array([ctx.weights.get(n, DEFAULT_WEIGHTS.get(n, 1.0)) for n in names], dtype=float)
    w /= w.sum()
    for _ in range(tries):
        name = names[rng.choice(len(names), p=w)]
        child = MUTATIONS[name](p, rng, ctx)
        if child is not None and child != p:
            return child
    return p


def random_program(rng: np.random.Generator, ctx: MutationContext, n_inserts: int) -> Program:
    """A random program grown from f(x) = x by ``n_inserts`` insertions."""
    p = Program((), (), "x")
    for _ in range(n_inserts):
        p = insert(p, rng, ctx)
    return p
