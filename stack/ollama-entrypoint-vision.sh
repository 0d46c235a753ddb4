#!/usr/bin/env bash
# Vision Ollama entrypoint: serve, pull the vision + embedding models ($MODELS), keep serving.
set -euo pipefail
. /usr/local/lib/ollama-lib.sh
ollama_run ollama-entrypoint-vision
