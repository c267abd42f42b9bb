"""Packages import downwards only: primitives <- evaluators <- search.

Each package's modules are imported, one after another, in a fresh
interpreter (one subprocess per package); the numsearch modules each one
pulls in must stay in its own layer or below."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

_PROBE = """
import importlib, json, pkgutil, sys
pkg = importlib.import_module(sys.argv[1])
pulled = {}
for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
    before = set(sys.modules)
    importlib.import_module(m.name)
    pulled[m.name] = sorted(k for k in set(sys.modules) - before if k.startswith("numsearch"))
print(json.dumps({"pulled": pulled, "all": sorted(k for k in sys.modules if k.startswith("numsearch"))}))
"""

BELOW_ONLY = {  # package: the packages none of its modules may import
    "numsearch.primitives": ("numsearch.evaluators", "numsearch.search"),
    "numsearch.evaluators": ("numsearch.search",),
}


@pytest.mark.parametrize("package", sorted(BELOW_ONLY))
def test_modules_import_only_their_layer_and_below(package):
    r = subprocess.run([sys.executable, "-c", _PROBE, package], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert len(got["pulled"]) >= 5, got  # the package's modules were found
    bad = {m: [k for k in mods if k.startswith(BELOW_ONLY[package])] for m, mods in got["pulled"].items()}
    assert not any(bad.values()), {m: v for m, v in bad.items() if v}
    assert not [k for k in got["all"] if k.startswith(BELOW_ONLY[package])]


def _imported_names(path, package):
    """Every module an import statement in the file names (in function bodies
    too), relative imports resolved against ``package``."""
    import ast
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            mod = ".".join(p for p in (base, node.module) if p)
            yield mod
            yield from (f"{mod}.{a.name}" for a in node.names)


@pytest.mark.parametrize("package", sorted(BELOW_ONLY))
def test_no_upward_import_statement_even_deferred(package):
    folder = ROOT / package.split(".", 1)[1]
    files = sorted(folder.glob("*.py"))
    assert len(files) >= 5
    bad = {f.name: sorted({n for n in _imported_names(f, package) if n.startswith(BELOW_ONLY[package])})
           for f in files}
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}
