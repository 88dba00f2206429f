#!/usr/bin/env bash
# Make sure the real PostgreSQL and Redis the tests need are up; start them when they are down.
# Fails (exit 1) with the reason when one cannot be had: the suite never skips for a missing
# service. Start commands are this machine's own (see the env notes in the README).
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT=5432 PG_DB=test PG_USER=${PG_USER:-postgres}
REDIS_HOST=127.0.0.1 REDIS_PORT=6379

pg_up() { pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_for() {  # wait_for <check> <seconds>
  for _ in $(seq 1 "$2"); do "$1" && return 0; sleep 1; done
  return 1
}

if ! pg_up; then
  echo "PostgreSQL is down on $PG_HOST:$PG_PORT: starting it"
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  wait_for pg_up 30 || { echo "FATAL: PostgreSQL could not be started on $PG_HOST:$PG_PORT" >&2; exit 1; }
fi
if ! psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  echo "database '$PG_DB' missing: creating it"
  createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB" \
    || { echo "FATAL: cannot reach database '$PG_DB' as '$PG_USER'" >&2; exit 1; }
fi

if ! redis_up; then
  echo "Redis is down on $REDIS_HOST:$REDIS_PORT: starting it"
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  wait_for redis_up 15 || { echo "FATAL: Redis could not be started on $REDIS_HOST:$REDIS_PORT" >&2; exit 1; }
fi
echo "services: PostgreSQL $PG_HOST:$PG_PORT/$PG_DB and Redis $REDIS_HOST:$REDIS_PORT are up"
