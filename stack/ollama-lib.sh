#!/usr/bin/env bash
# Shared lifecycle of both Ollama entrypoints: serve, wait, pull $MODELS, fail loudly, keep serving.
set -euo pipefail

ollama_run() {
  local role=$1
  ollama serve &
  local pid=$!
  trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT
  local i
  for i in $(seq 1 120); do
    if ollama list >/dev/null 2>&1; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "$role: FATAL: ollama serve exited during start" >&2; exit 1; fi
    sleep 0.25
  done
  ollama list >/dev/null 2>&1 || { echo "$role: FATAL: ollama serve did not answer in 30s" >&2; exit 1; }
  local model
  for model in ${MODELS:-}; do
    echo "$role: pulling $model"
    if ! ollama pull "$model"; then
      echo "$role: FATAL: pull of $model failed; this Ollama cannot serve its role" >&2
      kill -TERM "$pid" 2>/dev/null || true
      exit 1
    fi
  done
  echo "$role: ready with models: ${MODELS:-none}"
  wait "$pid"
}
