#!/usr/bin/env bash
# Redis like the official image's entrypoint: `redis-server ARGS` runs as the redis user in /data with protected
# mode off (the official image patches that default: a container's port is reached from other containers), in the
# foreground; ARGS (the compose command's) come after, so they win. Any other command runs as given.
set -euo pipefail
if [ "${1:-}" = "redis-server" ]; then
  shift
  mkdir -p /data
  chown redis:redis /data
  cd /data
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no --dir /data \
    --daemonize no "$@"
fi
exec "$@"
