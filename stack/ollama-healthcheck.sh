#!/usr/bin/env bash
# Healthy only when `ollama list` answers and lists every model in $MODELS (official image: no curl).
set -euo pipefail
listing=$(ollama list) || exit 1
for model in ${MODELS:-}; do
  case "$model" in *:*) want=$model ;; *) want=$model:latest ;; esac
  printf '%s\n' "$listing" | awk 'NR>1 {print $1}' | grep -qxF "$want" || { echo "missing $want"; exit 1; }
done
