"""The example run specs and shipped fronts installed with numsearch (``runs/``).

``examples()`` maps each spec's name to its files; ``numsearch examples``
lists them, and ``numsearch run NAME`` runs one by name.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path


@dataclass(frozen=True)
class Example:
    name: str
    spec: Path                 # runs/NAME.yaml
    front: Path | None         # runs/NAME.front.json, where a real run of it ships
    summary: str               # the spec's first comment line

    def describe(self) -> str:
        return self.summary or self.name


def runs_dir() -> Path:
    """The installed runs/ folder (the repository's, in an editable install)."""
    return Path(str(files("numsearch") / "runs"))


def examples() -> dict[str, Example]:
    out = {}
    d = runs_dir()
    for p in sorted(d.glob("*.yaml")):
        summary = _summary(p.read_text())
        front = d / f"{p.stem}.front.json"
        out[p.stem] = Example(p.stem, p, front if front.exists() else None, summary)
    return out


def _summary(text: str) -> str:
    """The first sentence of the spec's leading comment."""
    words = []
    for ln in text.splitlines():
        if not ln.startswith("#"):
            break
        words += ln.lstrip("#").split()
    s = " ".join(words)
    end = s.find(". ")
    return s if end < 0 else s[:end + 1]
