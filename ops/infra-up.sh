#!/usr/bin/env bash
# Start (or reuse) the three servers the suite's integration tests and local runs need, on loopback only:
#   Kafka (KRaft, single node) 127.0.0.1:$KAFKA_PORT, PostgreSQL 127.0.0.1:$PG_PORT, Redis 127.0.0.1:$REDIS_PORT
# (ports and INFRA_DIR in ops/infra.env). No containers: plain background processes.
#
# Idempotent: a server that already answers on its port is reused; a missing one is installed if needed
# (Debian packages redis-server / postgresql / maven+JDK; Kafka jars from Maven Central via ops/kafka/pom.xml),
# started, and waited for. Concurrent runs serialise on a lock file. Works from any cwd.
# Stop with ops/infra-down.sh [--purge]; check with ops/infra-status.sh; smoke-test with node ops/infra-smoke.js.
# File layout (and where PostgreSQL data lives when run as root: /var/tmp/recsys-infra-pg-<uid>-<port>) in
# ops/infra-lib.sh.
#
# Servers are started with the lock's fd (9) closed so they never hold the lock.
# Tunables (env): INFRA_WAIT_TIMEOUT (s, default 120 for Kafka, 60 for the others), KAFKA_HEAP_OPTS, PG_DIR.
set -euo pipefail

# shellcheck source=ops/infra-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra-lib.sh"

mkdir -p "$INFRA_DIR"
exec 9>"$INFRA_DIR/.infra-up.lock"
if ! flock -w 900 9; then die "timed out waiting for another infra-up.sh to finish (lock $INFRA_DIR/.infra-up.lock)"; fi

# ---------------------------------------------------------------------------------------------------------------
# apt installs (only when something is missing)
APT_UPDATED=""
apt_install() {
  is_root || die "missing: $* — install it (Debian: apt-get install $*) or run this script as root to install automatically"
  command -v apt-get >/dev/null || die "missing: $* and no apt-get on this machine; install it by hand"
  local policy_added=""
  # Keep package postinst scripts from starting their own system-wide services (redis on 6379, postgres on 5432).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_added=1
  fi
  local rc=0
  {
    if [ -z "$APT_UPDATED" ]; then
      log "infra: apt-get update (installing: $*)" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && APT_UPDATED=1
    fi &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  } || rc=$?
  [ -n "$policy_added" ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || die "apt-get install $* failed (exit $rc)"
}

# wait_until <name> <timeout_s> <logfile...> -- <pid-or-empty> <check command...>
# Polls the check until it succeeds; fails fast if the given pid dies; on failure prints the log tails.
wait_until() {
  local name="$1" timeout_s="$2"; shift 2
  local logs=()
  while [ "$1" != "--" ]; do logs+=("$1"); shift; done
  shift
  local pid="$1"; shift
  local deadline=$((SECONDS + timeout_s))
  while :; do
    if "$@"; then return 0; fi
    if [ -n "$pid" ] && ! pid_alive "$pid"; then
      # One more try: a daemonizing server's first pid may have exited on purpose.
      sleep 0.5
      if "$@"; then return 0; fi
      warn "$name exited during startup (pid $pid)"
      for f in "${logs[@]}"; do log_tail "$f"; done
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "$name did not answer within ${timeout_s}s"
      for f in "${logs[@]}"; do log_tail "$f"; done
      exit 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Redis
redis_up() {
  local addr="127.0.0.1:$REDIS_PORT"
  if redis_answers; then
    # A server started by an earlier version of this script ran without persistence: switch its
    # AOF on in place (CONFIG SET rewrites the AOF from memory in the background; nothing is lost).
    if command -v redis-cli >/dev/null && [ "$(redis-cli -p "$REDIS_PORT" config get appendonly 2>/dev/null | tail -n 1)" = "no" ]; then
      redis-cli -p "$REDIS_PORT" config set appendfsync everysec >/dev/null && redis-cli -p "$REDIS_PORT" config set appendonly yes >/dev/null &&
        log "redis     $addr  AOF switched on (appendfsync everysec)"
    fi
    log "redis     $addr  up (reused: already answering)"
    return
  fi
  if port_open "$REDIS_PORT"; then die "port $REDIS_PORT is taken by something that does not answer Redis PING"; fi
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$REDIS_DIR"
  local pidf="$REDIS_DIR/redis.pid" logf="$REDIS_DIR/redis.log"
  rm -f "$pidf"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode no \
    --daemonize yes --pidfile "$pidf" --logfile "$logf" --dir "$REDIS_DIR" \
    --save '' --appendonly yes --appendfsync everysec --appenddirname appendonly --databases 16 </dev/null >>"$logf" 2>&1 9>&- ||
    { warn "redis-server failed to start"; log_tail "$logf"; exit 1; }
  wait_until redis "${INFRA_WAIT_TIMEOUT:-60}" "$logf" -- "" redis_answers
  log "redis     $addr  up (started: pid $(read_pid "$pidf"), log $logf)"
}

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL
PG_BIN=""
pg_psql() { # run SQL as the postgres superuser over the unix socket
  as_pg_user "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -At "$@"
}

pg_ensure_role_db() {
  pg_psql -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'recsys') THEN
        CREATE ROLE recsys LOGIN SUPERUSER PASSWORD 'recsys';
      END IF; END \$\$;" >/dev/null
  if [ -z "$(pg_psql -c "SELECT 1 FROM pg_database WHERE datname = 'recsys'")" ]; then
    pg_psql -c "CREATE DATABASE recsys OWNER recsys" >/dev/null
  fi
}

pg_up() {
  local addr="127.0.0.1:$PG_PORT"
  PG_BIN="$(pg_bin_dir || true)"
  if pg_answers; then
    # Ours (socket present): make sure the role/db exist. Someone else's: trust it is set up (e.g. compose).
    if [ -n "$PG_BIN" ] && [ -S "$PG_SOCKET_DIR/.s.PGSQL.$PG_PORT" ]; then pg_ensure_role_db || true; fi
    log "postgres  $addr  up (reused: already answering)"
    return
  fi
  if port_open "$PG_PORT"; then die "port $PG_PORT is taken by something that does not answer as PostgreSQL"; fi
  if [ -z "$PG_BIN" ]; then apt_install postgresql; PG_BIN="$(pg_bin_dir || true)"; fi
  [ -n "$PG_BIN" ] || die "PostgreSQL installed but no server binaries found under /usr/lib/postgresql/*/bin"

  local user pgdir data logf
  user="$(pg_os_user)"
  pgdir="$(pg_dir)"
  data="$pgdir/data"
  logf="$pgdir/postgres.log"
  mkdir -p "$pgdir"
  if is_root; then
    chown "$user": "$pgdir"
    # Keep $INFRA_DIR/pg pointing at the data when it has to live outside INFRA_DIR.
    if [ "$pgdir" != "$INFRA_DIR/pg" ] && { [ ! -e "$INFRA_DIR/pg" ] || [ -L "$INFRA_DIR/pg" ]; }; then
      ln -sfn "$pgdir" "$INFRA_DIR/pg"
    fi
  fi
  chmod 700 "$pgdir"

  local bin_major; bin_major="$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
  if [ -s "$data/PG_VERSION" ] && [ "$(cat "$data/PG_VERSION")" != "$bin_major" ]; then
    die "PostgreSQL data dir $data is version $(cat "$data/PG_VERSION") but the server is $bin_major; remove it (ops/infra-down.sh --purge) and rerun"
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    rm -rf "$data"
    as_pg_user "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$pgdir/initdb.log" 2>&1 ||
      { warn "initdb failed"; log_tail "$pgdir/initdb.log"; exit 1; }
  fi
  # Settings live in recsys.conf (rewritten each start), included from postgresql.conf.
  as_pg_user tee "$data/recsys.conf" >/dev/null <<CONF
# Written by ops/infra-up.sh on every start; edit there.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
shared_buffers = 128MB
# Test server: durability off for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
CONF
  grep -q "^include_if_exists = 'recsys.conf'" "$data/postgresql.conf" ||
    echo "include_if_exists = 'recsys.conf'" | as_pg_user tee -a "$data/postgresql.conf" >/dev/null

  mkdir -p "$PG_SOCKET_DIR"
  is_root && chown "$user": "$PG_SOCKET_DIR"
  chmod 755 "$PG_SOCKET_DIR"
  # A postmaster.pid left by a killed server whose pid now belongs to another process would block startup.
  if [ -f "$data/postmaster.pid" ]; then
    local old; old="$(read_pid "$data/postmaster.pid")"
    if ! pid_alive "$old" || [ "$(cat "/proc/$old/comm" 2>/dev/null)" != postgres ]; then rm -f "$data/postmaster.pid"; fi
  fi
  as_pg_user setsid "$PG_BIN/pg_ctl" -D "$data" -l "$logf" -W start </dev/null >/dev/null 2>&1 9>&- ||
    { warn "pg_ctl start failed"; log_tail "$logf"; exit 1; }
  local pid="" i
  for i in $(seq 1 20); do pid="$(read_pid "$data/postmaster.pid")"; [ -n "$pid" ] && break; sleep 0.1; done
  wait_until postgres "${INFRA_WAIT_TIMEOUT:-60}" "$logf" -- "$pid" pg_answers
  pg_ensure_role_db || { warn "could not create role/database recsys"; log_tail "$logf"; exit 1; }
  log "postgres  $addr  up (started: pid ${pid:-?}, data $data, log $logf)"
}

# ---------------------------------------------------------------------------------------------------------------
# Kafka (KRaft: one process is broker and controller)
kafka_fetch_jars() {
  [ -f "$INFRA_DIR/kafka-$KAFKA_VERSION/.complete" ] && return 0
  command -v java >/dev/null && command -v mvn >/dev/null || apt_install maven default-jdk-headless
  local tmp="$INFRA_DIR/kafka-$KAFKA_VERSION/libs.tmp.$$" mlog="$INFRA_DIR/kafka-$KAFKA_VERSION/mvn.log"
  mkdir -p "$tmp"
  log "infra: fetching Kafka $KAFKA_VERSION jars with Maven (once; cached in $KAFKA_LIBS)" >&2
  if ! mvn -B -q -f "$OPS_DIR/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" -Dstyle.color=never \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mlog" 2>&1; then
    rm -rf "$tmp"
    warn "mvn dependency:copy-dependencies failed"; log_tail "$mlog"; exit 1
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  touch "$INFRA_DIR/kafka-$KAFKA_VERSION/.complete"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<PROPS
# Written by ops/infra-up.sh on every start; edit there.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=4
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
PROPS
  cat >"$KAFKA_DIR/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KAFKA_DIR/kafka.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
PROPS
}

# kafka_start launches the broker without waiting (the JVM boots while Redis/Postgres come up);
# kafka_finish waits for it to answer metadata and prints its line.
KAFKA_MODE="" KAFKA_PID=""
kafka_start() {
  local pidf="$KAFKA_DIR/kafka.pid"
  local logf="$KAFKA_DIR/kafka.log" outf="$KAFKA_DIR/kafka.out"
  local pid; pid="$(read_pid "$pidf")"
  if pid_alive "$pid" && grep -q kafka.Kafka "/proc/$pid/cmdline" 2>/dev/null; then
    # Our broker is running (maybe still starting): wait for it rather than starting another.
    KAFKA_MODE=ours KAFKA_PID="$pid"
    return
  fi
  # Anything else on the port must answer metadata (a check needing the jars or kafkajs).
  if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
    if kafka_answers; then KAFKA_MODE=foreign; return; fi
    die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT is taken by something that does not answer Kafka metadata"
  fi
  kafka_fetch_jars
  if ! { command -v node >/dev/null && [ -d "$REPO_DIR/node_modules/kafkajs" ]; } && ! command -v javac >/dev/null; then
    apt_install default-jdk-headless # for the Java readiness check (ops/kafka/WaitKafka.java)
  fi
  kafka_write_config
  local java_opts=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties" "-Dkafka.logs.dir=$KAFKA_DIR")
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    local cid
    cid="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    echo "$cid" >"$KAFKA_DIR/cluster.id"
    java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      -t "$cid" -c "$KAFKA_DIR/server.properties" --ignore-formatted >"$KAFKA_DIR/format.log" 2>&1 ||
      { warn "kafka storage format failed"; log_tail "$KAFKA_DIR/format.log"; exit 1; }
  fi
  rm -f "$pidf"
  : >>"$outf"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" \
    java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    </dev/null >>"$outf" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do pid="$(read_pid "$pidf")"; [ -n "$pid" ] && break; sleep 0.1; done
  KAFKA_MODE=started KAFKA_PID="$pid"
}

kafka_finish() {
  local addr="127.0.0.1:$KAFKA_PORT"
  case "$KAFKA_MODE" in
    foreign) log "kafka     $addr  up (reused: already answering)"; return ;;
    ours) if kafka_answers; then log "kafka     $addr  up (reused: pid $KAFKA_PID)"; return; fi ;;
  esac
  wait_until kafka "${INFRA_WAIT_TIMEOUT:-120}" "$KAFKA_DIR/kafka.log" "$KAFKA_DIR/kafka.out" -- "$KAFKA_PID" kafka_answers
  if [ "$KAFKA_MODE" = ours ]; then
    log "kafka     $addr  up (reused: pid $KAFKA_PID, was starting)"
  else
    log "kafka     $addr  up (started: pid $KAFKA_PID, log $KAFKA_DIR/kafka.log)"
  fi
}

# Kafka boots slowest: launch it first, bring Redis and PostgreSQL up meanwhile, then wait for Kafka.
kafka_start
redis_up
pg_up
kafka_finish
