"""Hostile-proof YAML for specs: safe types only, no duplicate keys, bounded size.

``load_yaml(text, where)`` returns the document or raises ``UserError`` with
one line: a duplicate key (with its line), a document too large or too
deeply nested, an alias bomb (aliases expanding to more than
``MAX_NODES`` nodes), text that is not YAML.  ``read_text(path)`` reads a
file as UTF-8, refusing binary or oversized files.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import UserError
from .show import show

MAX_BYTES = 1 << 20       # a spec is a few hundred lines; 1 MiB is far beyond any
MAX_NODES = 100_000       # nodes after expanding aliases (an alias bomb expands to billions)
MAX_DEPTH = 64            # nesting of lists and mappings


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with a key given twice."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen:
                    raise _Duplicate(key, key_node.start_mark.line + 1)
                seen.add(key)
        return super().construct_mapping(node, deep)


class _Duplicate(Exception):
    def __init__(self, key, line):
        self.key, self.line = key, line


def _expanded_size(root) -> int:
    """Nodes of the document with every alias expanded (memoized: linear in the graph)."""
    size: dict[int, int] = {}
    stack = [(root, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in size:
            continue
        if depth > MAX_DEPTH:
            raise UserError(f"nested more than {MAX_DEPTH} levels deep")
        kids = []
        if isinstance(node, yaml.SequenceNode):
            kids = node.value
        elif isinstance(node, yaml.MappingNode):
            kids = [n for kv in node.value for n in kv]
        if done:
            size[id(node)] = min(1 + sum(size[id(k)] for k in kids), MAX_NODES + 1)
            continue
        stack.append((node, depth, True))
        stack.extend((k, depth + 1, False) for k in kids if id(k) not in size)
    return size[id(root)]


def load_yaml(text: str, where: str = "spec"):
    """The YAML document in ``text`` (see the module docstring)."""
    if len(text) > MAX_BYTES:
        raise UserError(f"{where}: {len(text)} characters; a spec is at most {MAX_BYTES} (1 MiB)")
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is None:
            return None
        try:
            n = _expanded_size(node)
        except UserError as e:
            raise UserError(f"{where}: {e}") from None
        if n > MAX_NODES:
            raise UserError(f"{where}: expands to more than {MAX_NODES} values (YAML aliases *name repeat "
                            f"whole structures); write the spec out plainly")
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Duplicate as d:
        raise UserError(f"{where}: line {d.line}: duplicate key {_short(d.key)} (each key may appear once)") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or ""
        at = f" (line {mark.line + 1}{': ' + _short(problem, 60) if problem else ''})" if mark is not None else ""
        raise UserError(f"{where}: not valid YAML{at}") from None
    except UserError:
        raise
    except RecursionError:
        raise UserError(f"{where}: nested too deeply") from None
    except (ValueError, OverflowError) as e:   # e.g. an integer of more digits than Python converts
        raise UserError(f"{where}: a value YAML cannot read ({_short(str(e), 80)})") from None


def read_text(path: str | Path, what: str = "spec", limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a file; ``UserError`` (one line) if unreadable, binary or over ``limit`` bytes."""
    p = Path(path)
    try:
        if p.is_dir():
            raise UserError(f"{path}: is a directory, not a {what} file")
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    if len(data) > limit:
        raise UserError(f"{path}: larger than {limit} bytes, too large for a {what} file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None


def _short(v, n: int = 40) -> str:
    return show(v, n)
