"""`.venv/bin/python tools/drill NAME` (make drill NAME)."""

import sys
from pathlib import Path

if not __package__:  # run as a directory: tools/ (stack, postgres.py) and tools/bench (benchkit)
    tools = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(tools), str(tools / "bench")]

from drill.cli import main

sys.exit(main(sys.argv[1:]))
