#!/usr/bin/env bash
# LLM Ollama entrypoint: serve, pull the LLM models ($MODELS), keep serving.
set -euo pipefail
. /usr/local/lib/ollama-lib.sh
ollama_run ollama-entrypoint
