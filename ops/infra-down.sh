#!/usr/bin/env bash
# Stop the servers ops/infra-up.sh started (Kafka, PostgreSQL, Redis): gracefully, then SIGKILL after a grace
# period. Idempotent; only touches processes recorded in our pid files. Servers that infra-up.sh merely reused
# (started by someone else) are left alone.
#   --purge   also delete $INFRA_DIR and the PostgreSQL dir (data, logs, downloaded Kafka jars; ~/.m2 stays)
set -euo pipefail
# shellcheck source=ops/infra-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra-lib.sh"

PURGE=""
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) die "unknown argument: $a" ;;
  esac
done

# stop_pid <name> <pid> <cmdline-substring> <grace-seconds> [signal]
stop_pid() {
  local name="$1" pid="$2" want="$3" grace="$4" sig="${5:-TERM}"
  if ! pid_alive "$pid"; then log "$name: not running"; return 0; fi
  if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want"; then
    log "$name: pid $pid is not ours (no '$want' in its command line); leaving it"; return 0
  fi
  kill -"$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if pid_alive "$pid"; then
    warn "$name (pid $pid) still running after ${grace}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  log "$name: stopped (pid $pid)"
}

# Kafka: controlled shutdown on SIGTERM takes a few seconds.
stop_pid kafka "$(read_pid "$KAFKA_DIR/kafka.pid")" kafka.Kafka 30
rm -f "$KAFKA_DIR/kafka.pid"

# PostgreSQL: pg_ctl stop -m fast, else signals to the postmaster.
PGD="$(pg_dir)"
PG_BIN="$(pg_bin_dir || true)"
if [ -f "$PGD/data/postmaster.pid" ]; then
  pgpid="$(read_pid "$PGD/data/postmaster.pid")"
  if pid_alive "$pgpid" && [ -n "$PG_BIN" ] &&
    as_pg_user "$PG_BIN/pg_ctl" -D "$PGD/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
    log "postgres: stopped (pid $pgpid)"
  else
    # SIGINT = fast shutdown for the postmaster.
    stop_pid postgres "$pgpid" postgres 30 INT
  fi
else
  log "postgres: not running"
fi

# Redis: nothing to persist.
stop_pid redis "$(read_pid "$REDIS_DIR/redis.pid")" redis-server 10
rm -f "$REDIS_DIR/redis.pid"

if [ -n "$PURGE" ]; then
  rm -rf "$PGD" "$PG_SOCKET_DIR"
  rm -rf "$INFRA_DIR"
  log "purged $INFRA_DIR and $PGD"
fi
