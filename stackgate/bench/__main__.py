"""`python -m stackgate.bench [ROUNDS]`: the gate's own benchmark (bench.gate), ROUNDS rounds (default 3)."""

import sys

from .gate import main

raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
