"""Where things are: the checkout, its stack/ folder, and the one reports folder."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: stackgate/core/paths.py -> ROOT
STACK = ROOT / "stack"


def reports_dir() -> Path:
    """The reports folder: $STACKGATE_REPORTS, else ./reports where the command runs (read at each call)."""
    return Path(os.environ.get("STACKGATE_REPORTS") or Path.cwd() / "reports")
