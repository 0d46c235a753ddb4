"""Ollama stand-in: Ollama's HTTP API and CLI, offline, with deterministic inference.

It is NOT Ollama. It says so in /api/version, /api/show, its image labels and its logs.
"""

VERSION = "0.9.0-standin"
BACKEND = "stackgate Ollama stand-in (not Ollama)"
