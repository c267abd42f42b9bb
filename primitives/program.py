"""Straight-line SSA programs: immutable, hashable, with a stable text form.

A reference (``Ref``) is ``"x"`` (the input), ``"cK"`` (constant K) or ``"vK"``
(the result of instruction K, which must come earlier).  Text form::

    c0 = 0x1.62e42fefa39efp-1
    v0 = mul(x, c0)
    return v0

Constants print as exact hex floats, so text round-trips bit for bit.
"""
from __future__ import annotations

import re

import numpy as np
from dataclasses import dataclass
from functools import cached_property

from .ops import OPS

Ref = str


_IDEMPOTENT = ("min", "max")   # op(a, a) = a


def _same(op: str, args) -> str | None:
    """The argument an instruction equals whatever its values (min(a, a), max(a, a),
    select(s, a, a): a), else None."""
    if op in _IDEMPOTENT and args[0] == args[1]:
        return args[0]
    if op == "select" and args[1] == args[2]:
        return args[1]
    return None


class ProgramError(ValueError):
    """A program text or structure that is not valid."""


def ref_kind(ref: Ref) -> str:
    return ref[0]


def ref_index(ref: Ref) -> int:
    return int(ref[1:])


@dataclass(frozen=True)
class Instr:
    op: str
    args: tuple[Ref, ...]

    def text(self, k: int) -> str:
        return f"v{k} = {self.op}({', '.join(self.args)})"


@dataclass(frozen=True)
class Program:
    consts: tuple[float, ...]
    instrs: tuple[Instr, ...]
    out: Ref = "x"

    # ---------------------------------------------------------------- checks
    def __post_init__(self):
        object.__setattr__(self, "consts", tuple(float(c) for c in self.consts))
        for k, ins in enumerate(self.instrs):
            if ins.op not in OPS:
                raise ProgramError(f"v{k}: unknown op {ins.op!r}")
            if len(ins.args) != OPS[ins.op].arity:
                raise ProgramError(f"v{k}: {ins.op} takes {OPS[ins.op].arity} args, got {len(ins.args)}")
            for a in ins.args:
                self._check_ref(a, k, f"v{k}")
        self._check_ref(self.out, len(self.instrs), "return")

    def _check_ref(self, ref: Ref, before: int, where: str) -> None:
        if ref == "x":
            return
        if not re.fullmatch(r"[cv]\d+", ref):
            raise ProgramError(f"{where}: bad reference {ref!r}")
        i = ref_index(ref)
        if ref[0] == "c" and i >= len(self.consts):
            raise ProgramError(f"{where}: constant {ref} is not defined")
        if ref[0] == "v" and i >= before:
            raise ProgramError(f"{where}: {ref} is used before it is defined")

    # ---------------------------------------------------------------- structure
    @cached_property
    def depends_on_x(self) -> tuple[bool, ...]:
        dep: list[bool] = []
        for ins in self.instrs:
            dep.append(any(a == "x" or (a[0] == "v" and dep[ref_index(a)]) for a in ins.args))
        return tuple(dep)

    @property
    def ops(self) -> int:
        """Instructions that depend on x (constant-only work is free)."""
        return sum(self.depends_on_x)

    def cost(self, weights: dict[str, float] | None = None) -> float:
        w = weights or {}
        return sum(w.get(ins.op, OPS[ins.op].cost) for ins, d in zip(self.instrs, self.depends_on_x) if d)

    def simplify(self) -> "Program":
        """Remove dead instructions and unused constants; renumber in order."""
        live_v: set[int] = set()
        live_c: set[int] = set()
        stack = [self.out]
        while stack:
            r = stack.pop()
            if r[0] == "v" and ref_index(r) not in live_v:
                live_v.add(ref_index(r))
                stack.extend(self.instrs[ref_index(r)].args)
            elif r[0] == "c":
                live_c.add(ref_index(r))
        if len(live_v) == len(self.instrs) and len(live_c) == len(self.consts):
            return self
        vmap = {f"v{o}": f"v{n}" for n, o in enumerate(sorted(live_v))}
        order_c = sorted(live_c)
        cmap = {f"c{o}": f"c{n}" for n, o in enumerate(order_c)}
        m = {**vmap, **cmap, "x": "x"}
        instrs = tuple(Instr(self.instrs[o].op, tuple(m[a] for a in self.instrs[o].args)) for o in sorted(live_v))
        return Program(tuple(self.consts[o] for o in order_c), instrs, m[self.out])

    def fold_constants(self) -> "Program":
        """Replace every instruction that does not depend on x by one new
        constant holding its float64 value (constant-only work is free, and
        the fitter would fit the folded constant anyway), drop min(a, a),
        max(a, a) and select(s, a, a) (they are a); then simplify."""
        dep = self.depends_on_x
        if not self.instrs or (all(dep) and not any(_same(i.op, i.args) for i in self.instrs)):
            return self.simplify()
        consts = list(self.consts)
        vals: dict[int, float] = {}
        m: dict[str, str] = {}
        instrs = []
        for k, ins in enumerate(self.instrs):
            if dep[k]:
                args = tuple(m.get(a, a) for a in ins.args)
                if _same(ins.op, args):
                    m[f"v{k}"] = _same(ins.op, args)   # min(a, a) = max(a, a) = select(s, a, a) = a, NaN and -0 included
                    continue
                m[f"v{k}"] = f"v{len(instrs)}"
                instrs.append(Instr(ins.op, args))
                continue
            args = [consts[ref_index(a)] if a[0] == "c" else vals[ref_index(a)] for a in ins.args]
            with np.errstate(all="ignore"):
                vals[k] = float(OPS[ins.op].f64(*(np.float64(a) for a in args)))
            consts.append(vals[k])
            m[f"v{k}"] = f"c{len(consts) - 1}"
        return Program(tuple(consts), tuple(instrs), m.get(self.out, self.out)).simplify()

    def with_consts(self, consts) -> "Program":
        return Program(tuple(float(c) for c in consts), self.instrs, self.out)

    # ---------------------------------------------------------------- text
    def text(self) -> str:
        lines = [f"c{i} = {float(c).hex()}" for i, c in enumerate(self.consts)]
        lines += [ins.text(k) for k, ins in enumerate(self.instrs)]
        lines.append(f"return {self.out}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    @staticmethod
    def parse(text: str) -> "Program":
        return parse_program(text)


_CONST = re.compile(r"c(\d+)\s*=\s*(\S+)")
_INSTR = re.compile(r"v(\d+)\s*=\s*([a-z_][a-z0-9_]*)\s*\(([^()]*)\)")
_RET = re.compile(r"return\s+(\S+)")


def _parse_float(tok: str, lineno: int) -> float:
    try:
        return float.fromhex(tok) if "0x" in tok.lower() else float(tok)
    except ValueError:
        raise ProgramError(f"line {lineno}: bad constant {tok!r}") from None


def parse_program(text: str) -> Program:
    """Parse the program text format (comments after '#' are ignored)."""
    consts: dict[int, float] = {}
    instrs: list[Instr] = []
    out = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if out is not None:
            raise ProgramError(f"line {lineno}: text after 'return'")
        if m := _CONST.fullmatch(line):
            i = int(m.group(1))
            if i != len(consts):
                raise ProgramError(f"line {lineno}: expected c{len(consts)}, got c{i}")
            consts[i] = _parse_float(m.group(2), lineno)
        elif m := _INSTR.fullmatch(line):
            k = int(m.group(1))
            if k != len(instrs):
                raise ProgramError(f"line {lineno}: expected v{len(instrs)}, got v{k}")
            args = tuple(a.strip() for a in m.group(3).split(",")) if m.group(3).strip() else ()
            instrs.append(Instr(m.group(2), args))
        elif m := _RET.fullmatch(line):
            out = m.group(1)
        else:
            raise ProgramError(f"line {lineno}: cannot parse {line!r}")
    if out is None:
        raise ProgramError("program has no 'return' line")
    return Program(tuple(consts[i] for i in range(len(consts))), tuple(instrs), out)


EMPTY = Program((), (), "x")
