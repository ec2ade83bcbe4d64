#!/usr/bin/env bash
# One line per server: whether it answers on its loopback port, and our pid when we started it.
# Exit 0 when all three answer, 1 otherwise.
set -uo pipefail
# shellcheck source=ops/infra-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/infra-lib.sh"

rc=0
line() { # name addr answers? pid
  local state="down"; if [ "$3" = 1 ]; then state="up"; else rc=1; fi
  local who=""; if pid_alive "$4"; then who=" (pid $4, ours)"; fi
  printf '%-9s %-16s %s%s\n' "$1" "$2" "$state" "$who"
}
a=0; kafka_answers && a=1; line kafka "127.0.0.1:$KAFKA_PORT" "$a" "$(read_pid "$KAFKA_DIR/kafka.pid")"
a=0; pg_answers && a=1; line postgres "127.0.0.1:$PG_PORT" "$a" "$(read_pid "$(pg_dir)/data/postmaster.pid")"
a=0; redis_answers && a=1; line redis "127.0.0.1:$REDIS_PORT" "$a" "$(read_pid "$REDIS_DIR/redis.pid")"
exit "$rc"
