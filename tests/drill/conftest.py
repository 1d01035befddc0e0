"""tools/drill/ (``make drill``) importable as ``drill``, as tools/drill/__main__.py arranges: with
tools/ (the ``stack`` package, postgres.py) and tools/bench/ (``benchkit``) on sys.path."""

import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"
for path in (TOOLS / "bench", TOOLS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
