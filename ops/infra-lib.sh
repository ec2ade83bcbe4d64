# Shared helpers for ops/infra-up.sh, ops/infra-down.sh and ops/infra-status.sh (sourced, not run).
#
# Layout (INFRA_DIR defaults to $HOME/.cache/recsys-infra, see ops/infra.env):
#   $INFRA_DIR/kafka-<version>/libs/   Kafka server jars fetched once from Maven Central (ops/kafka/pom.xml)
#   $INFRA_DIR/kafka/                  server.properties, log4j.properties, data/, kafka.log, kafka.pid
#   $INFRA_DIR/redis/                  redis.log, redis.pid, appendonly/ (AOF, appendfsync everysec: a restart keeps the state,
#                                      at most ~1 s of writes lost on a crash of the machine)
#   $PG_DIR                            data/, postgres.log — PostgreSQL refuses to run as root, so as root it
#                                      runs as the 'postgres' OS user; its files must then be reachable by that
#                                      user. If INFRA_DIR is traversable by 'postgres', PG_DIR=$INFRA_DIR/pg;
#                                      otherwise (the default /root/.cache/... is not: /root is 0700)
#                                      PG_DIR=/var/tmp/recsys-infra-pg-<uid>-<port>, and $INFRA_DIR/pg is a symlink to it.
#                                      Non-root users run PostgreSQL as themselves under $INFRA_DIR/pg.
#   PG unix socket: /tmp/recsys-infra-pg-sock-<port> (short path: sockets are limited to ~107 chars).
#   Maven's jar cache stays in ~/.m2 (not under INFRA_DIR).

OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$OPS_DIR/.." && pwd)"
# shellcheck source=ops/infra.env
source "$OPS_DIR/infra.env"

KAFKA_LIBS="$INFRA_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_DIR="$INFRA_DIR/kafka"
REDIS_DIR="$INFRA_DIR/redis"
PG_SOCKET_DIR="/tmp/recsys-infra-pg-sock-$PG_PORT"

log() { printf '%s\n' "$*"; }
warn() { printf 'infra: %s\n' "$*" >&2; }
die() { printf 'infra: ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

read_pid() { [ -s "$1" ] && head -n1 "$1" | tr -dc '0-9' || true; }

# Print the last lines of a log file to stderr (for failure messages).
log_tail() {
  local f="$1" n="${2:-40}"
  if [ -f "$f" ]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
    printf -- '-----\n' >&2
  else
    printf 'infra: (no log file at %s)\n' "$f" >&2
  fi
}

# Redis answers PING with +PONG (checked with bash only, no redis-cli needed).
redis_answers() {
  timeout 2 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$REDIS_PORT"' || exit 1
    printf "PING\r\n" >&3
    IFS= read -r -t 2 line <&3 || exit 1
    [[ "$line" == "+PONG"* ]]' 2>/dev/null
}

pg_bin_dir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$d" ] && [ -x "$d/postgres" ]; then printf '%s\n' "$d"; return 0; fi
  d="$(dirname "$(command -v postgres 2>/dev/null || command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")"
  [ -x "$d/postgres" ] && printf '%s\n' "$d"
}

# PostgreSQL answers on TCP (pg_isready: accepting connections, whatever the auth).
pg_answers() {
  local bin; bin="$(pg_bin_dir)"
  if [ -n "$bin" ] && [ -x "$bin/pg_isready" ]; then
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2
  elif command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
  else
    port_open "$PG_PORT"
  fi
}

# The OS user PostgreSQL runs as: 'postgres' when we are root, else ourselves.
pg_os_user() { if is_root; then echo postgres; else id -un; fi; }

as_pg_user() {
  # From / : the caller's cwd (e.g. a mktemp clone) may not be readable by postgres.
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_dir() {
  if [ -n "${PG_DIR:-}" ]; then printf '%s\n' "$PG_DIR"; return; fi
  if ! is_root; then printf '%s\n' "$INFRA_DIR/pg"; return; fi
  if [ -L "$INFRA_DIR/pg" ]; then readlink -f "$INFRA_DIR/pg"; return; fi
  if id postgres >/dev/null 2>&1 && [ -d "$INFRA_DIR" ] && runuser -u postgres -- test -x "$INFRA_DIR" 2>/dev/null; then
    printf '%s\n' "$INFRA_DIR/pg"
  else
    printf '%s\n' "/var/tmp/recsys-infra-pg-$(id -u)-$PG_PORT"
  fi
}

# Kafka answers a metadata request (a bare TCP check is not enough).
# Uses kafkajs from the repo's node_modules when present, else a tiny Java AdminClient program
# (ops/kafka/WaitKafka.java, compiled once into $INFRA_DIR/kafka-<ver>/wait-classes; needs a JDK).
kafka_answers() {
  if port_open "$KAFKA_PORT"; then :; else return 1; fi
  if command -v node >/dev/null && [ -d "$REPO_DIR/node_modules/kafkajs" ]; then
    node "$OPS_DIR/wait-kafka.js" "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1
  elif [ -d "$KAFKA_LIBS" ] && command -v javac >/dev/null; then
    local classes="$INFRA_DIR/kafka-$KAFKA_VERSION/wait-classes"
    if [ ! -f "$classes/WaitKafka.class" ] || [ "$OPS_DIR/kafka/WaitKafka.java" -nt "$classes/WaitKafka.class" ]; then
      mkdir -p "$classes"
      javac -nowarn -cp "$KAFKA_LIBS/*" -d "$classes" "$OPS_DIR/kafka/WaitKafka.java" >/dev/null 2>&1 || return 1
    fi
    java -Xshare:auto -XX:TieredStopAtLevel=1 -cp "$classes:$KAFKA_LIBS/*" -Dlog4j.configuration=file:/dev/null \
      WaitKafka "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1
  else
    warn "cannot check Kafka metadata (no node_modules/kafkajs and no JDK+jars); falling back to a TCP check"
    return 0
  fi
}
