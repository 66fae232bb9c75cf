#!/usr/bin/env bash
# Ensure a Redis server for the Feast online store: install it (Debian, as root) if missing, then
# start one on $NUDGE_REDIS_PORT (default 6390) unless one already answers there.
# Usage: scripts/redis.sh start|stop
set -euo pipefail
PORT="${NUDGE_REDIS_PORT:-6390}"
DIR="${NUDGE_REDIS_DIR:-/tmp/nudge-redis-$PORT}"

install_redis() {
  if command -v redis-server >/dev/null; then return; fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "redis-server is not installed; install it (e.g. apt-get install redis-server)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
}

case "${1:-start}" in
  start)
    install_redis
    if redis-cli -p "$PORT" ping >/dev/null 2>&1; then exit 0; fi
    mkdir -p "$DIR"
    redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR" \
      --save "" --appendonly no --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
    echo "redis-server did not answer on port $PORT; see $DIR/redis.log" >&2
    exit 1
    ;;
  stop)
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
