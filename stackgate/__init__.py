"""stackgate: the release gate of the separated LLM / vision document-AI stack."""

__version__ = "0.1.0"
