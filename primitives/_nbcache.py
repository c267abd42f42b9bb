"""Stale compiled code across numba modules.

numba's ``cache=True`` keys a function's cached machine code on the stamp of
its own source file only; code it compiled in from another module (a call
into ``_kernels_nb`` from ``search._fit_nb``, say) stays in the cache after
that module changes, and the old code runs.  ``drop_stale`` is called by such
a module at import, before any of its cached functions load: it compares a
digest of the modules it calls into with the one kept beside its cache files
and deletes those files when the digest differs (numba then compiles afresh
and caches again).  It looks where numba keeps the cache: ``__pycache__``
next to the module, and under ``NUMBA_CACHE_DIR`` when that is set.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _dirs(module_file: Path) -> list[Path]:
    out = [module_file.parent / "__pycache__"]
    cache = os.environ.get("NUMBA_CACHE_DIR")
    if cache:
        out.append(Path(cache) / module_file.parent.resolve().relative_to(module_file.anchor))
    return out


def drop_stale(module_file: str, deps: tuple[str, ...]) -> bool:
    """Delete the cached numba code of ``module_file`` where the sources of
    ``deps`` (files it calls into) changed since it was cached; True if any
    was deleted.  Never raises: a cache it cannot read or write is left alone."""
    mod = Path(module_file)
    digest = hashlib.sha256(b"".join(Path(d).read_bytes() for d in deps)).hexdigest()
    dropped = False
    for d in _dirs(mod):
        try:
            if not d.is_dir():
                continue
            stamp = d / f"{mod.stem}.deps"
            if stamp.exists() and stamp.read_text() == digest:
                continue
            for f in d.glob(f"{mod.stem}.*.nb[ic]"):
                f.unlink(missing_ok=True)
                dropped = True
            stamp.write_text(digest)
        except OSError:
            continue
    return dropped
