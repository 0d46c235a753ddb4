#!/usr/bin/env bash
# Shared lifecycle of both Ollama entrypoints: serve, wait, make sure $MODELS are held, set their threads, keep
# serving. A model already in the volume is not pulled again, so a restart needs no registry (an outage, or a
# site whose models were carried in); a failed pull is FATAL only for a model this Ollama does not hold.
# Every client command runs in the background and is waited for, so a TERM (docker stop) is acted on at once,
# not after a pull of minutes (bash runs a trap only between foreground commands).
set -euo pipefail

listed() {  # the model names `ollama list` shows, normalised to name:tag
  ollama list | awk 'NR>1 {print $1}'
}

CHILD=""
interruptible() {  # run a command in the background and wait for it: a TERM meanwhile runs the trap at once
  "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

set_threads() {  # write MODEL_NUM_THREAD into a model as PARAMETER num_thread (Ollama 0.9.0 has no variable for it)
  local model=$1 file
  file=$(mktemp)
  printf 'FROM %s\nPARAMETER num_thread %s\n' "$model" "$MODEL_NUM_THREAD" > "$file"
  interruptible ollama create "$model" -f "$file" >/dev/null || { rm -f "$file"; return 1; }
  rm -f "$file"
}

ollama_run() {
  local role=$1
  ollama serve &
  local pid=$!
  trap '{ [ -z "$CHILD" ] || kill -TERM "$CHILD"; kill -TERM "$pid"; } 2>/dev/null || true; wait "$pid" || true; exit 0' TERM INT
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
    if ! interruptible ollama pull "$model"; then
      echo "$role: FATAL: pull of $model failed and it is not held; this Ollama cannot serve its role" >&2
      kill -TERM "$pid" 2>/dev/null || true
      exit 1
    fi
  done
  if [ -n "${MODEL_NUM_THREAD:-}" ]; then
    for model in ${MODELS:-}; do
      case "$model" in *:*) want=$model ;; *) want=$model:latest ;; esac
      set_threads "$want" || { echo "$role: FATAL: could not set num_thread $MODEL_NUM_THREAD on $want" >&2
                               kill -TERM "$pid" 2>/dev/null || true; exit 1; }
    done
    echo "$role: every model runs with num_thread $MODEL_NUM_THREAD (MODEL_NUM_THREAD)"
  fi
  echo "$role: ready with models: ${MODELS:-none}"
  wait "$pid"
}
