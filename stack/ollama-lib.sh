#!/usr/bin/env bash
# Shared lifecycle of both Ollama entrypoints: serve, wait, make sure $MODELS are held, keep serving.
# A model already in the volume is not pulled again, so a restart needs no registry (an outage, or a site
# whose models were carried in); a failed pull is FATAL only for a model this Ollama does not hold.
set -euo pipefail

listed() {  # the model names `ollama list` shows, normalised to name:tag
  ollama list | awk 'NR>1 {print $1}'
}

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
  local model want held
  held=$(listed)
  for model in ${MODELS:-}; do
    case "$model" in *:*) want=$model ;; *) want=$model:latest ;; esac
    if printf '%s\n' "$held" | grep -qxF "$want"; then
      echo "$role: $want already held; not pulled"
      continue
    fi
    echo "$role: pulling $model"
    if ! ollama pull "$model"; then
      echo "$role: FATAL: pull of $model failed and it is not held; this Ollama cannot serve its role" >&2
      kill -TERM "$pid" 2>/dev/null || true
      exit 1
    fi
  done
  echo "$role: ready with models: ${MODELS:-none}"
  wait "$pid"
}
