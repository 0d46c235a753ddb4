"""Import helpers for the stand-ins' and services' code, which live in stack/ (their image layout)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for sub in ("stack/airgap/ollama", "stack/airgap/neo4j", "stack/services"):
    path = str(ROOT / sub)
    if path not in sys.path:
        sys.path.insert(0, path)
