import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def cli(*args, timeout=300):
    """Run the numsearch CLI in a subprocess from the repository root."""
    import subprocess
    return subprocess.run([sys.executable, "-m", "numsearch.search.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)
