#!/usr/bin/env bash
# ChromaDB's own server (`chroma run`), data in /data, telemetry off.
set -euo pipefail
export ANONYMIZED_TELEMETRY=False
mkdir -p /data
exec chroma run --path /data --host 0.0.0.0 --port 8000
