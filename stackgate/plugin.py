"""The stackgate pytest plugin: command-line options (fixtures and report join as they land)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stackgate")
    group.addoption("--stack-profile", choices=("airgap", "production"), default="airgap",
                    help="compose profile to start (default: airgap, no registry)")
    group.addoption("--stack-reuse", action="store_true",
                    help="test an already-running stack at the manifest's URLs; start and stop nothing")
    group.addoption("--keep-stack", action="store_true", help="leave the stack up after the session")
    group.addoption("--manifest", default=None, help="path to the manifest (default: stack/manifest.yaml)")
