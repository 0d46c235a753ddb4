"""`python -m stackgate.bench`: the gate's own benchmark (bench.gate)."""

from .gate import main

raise SystemExit(main())
