"""The exception hierarchy: each message says what was expected, what was found, and a hint."""

from __future__ import annotations


class StackgateError(Exception):
    """Base of every error stackgate raises on purpose; its message is one line for the user."""


class EngineError(StackgateError):
    """No usable Docker engine (missing, not running, cannot be installed here)."""


class ImageBuildError(StackgateError):
    """An image of the airgap profile could not be built."""


class ManifestError(StackgateError):
    """The manifest is missing, malformed or inconsistent."""


class StackStartError(StackgateError):
    """The stack did not come up healthy within its bound; `causes` maps each service that failed by itself
    (exited, unhealthy) to its state, leaving out those merely waiting for it."""

    def __init__(self, message: str, causes: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.causes = dict(causes or {})


class ComposeFileError(StackgateError):
    """A compose file is missing or malformed."""
