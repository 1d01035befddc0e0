"""`.venv/bin/python tools/stack start|stop|status` (make stack, stack-stop, stack-status)."""

import sys
from pathlib import Path

if not __package__:  # run as a directory: the package and tools/postgres.py are in tools/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack.cli import main

sys.exit(main(sys.argv[1:]))
