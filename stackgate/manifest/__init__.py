"""What the stack must be: the manifest as typed data (`model`, `requests`, `sections`), read and validated by
`loader` against its JSON Schema (`data/manifest.schema.json`)."""

from .loader import DEFAULT_PATH, SCHEMA, load, merged, parse_roundtrip, rollback_target, validate
from .model import KINDS, Gate, Manifest, OllamaSpec, OptionalSkip, RollbackTarget, ServiceSpec, Suppression
from .requests import Check, Request, Roundtrip, Step, Upload, render
from .sections import History, Isolation, Phrasing, Scale

__all__ = ["DEFAULT_PATH", "KINDS", "SCHEMA", "Check", "Gate", "History", "Isolation", "Manifest", "OllamaSpec",
           "OptionalSkip", "Phrasing", "Request", "RollbackTarget", "Roundtrip", "Scale", "ServiceSpec", "Step",
           "Suppression", "Upload", "load", "merged", "parse_roundtrip", "render", "rollback_target", "validate"]
