#!/usr/bin/env bash
# Redis in the foreground on all interfaces (Debian's redis.conf would daemonize and bind 127.0.0.1).
set -euo pipefail
mkdir -p /data
exec redis-server --bind 0.0.0.0 --protected-mode no --dir /data --appendonly yes --daemonize no "$@"
