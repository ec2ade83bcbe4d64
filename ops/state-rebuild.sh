#!/usr/bin/env bash
# Rebuilds Redis state that derives from Kafka, by replaying the service's topics from the
# earliest retained offset. Usage:
#   REDIS_URL=redis://127.0.0.1:16379 [STATE_PREFIX=...] bash ops/state-rebuild.sh behavior
# It deletes the service's generation marker (`<STATE_PREFIX>generation:<service>`): a running
# service notices within STATE_GENERATION_CHECK_MS (default 2 s), stops its consumers, restores its
# DLQ dedupe ledger from the DLQ topics and replays catalog.items, then user.behaviors, into a new
# generation (consumer groups `<group>.<generation>`); a stopped one does the same at its next start.
# Readiness (/health/ready) reports `state: down` while the replay runs. The same happens by itself
# when Redis loses its data (restart without its AOF, FLUSHALL, failover to an empty replica).
set -euo pipefail
service="${1:-}"
case "$service" in
  behavior) ;;
  *) echo "usage: $0 behavior   (the services whose Redis state derives from Kafka)" >&2; exit 2 ;;
esac
OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=ops/infra.env
source "$OPS_DIR/infra.env"
url="${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT}}"
key="${STATE_PREFIX:-}generation:${service}"
cd "$OPS_DIR/.."
REDIS_URL="$url" KEY="$key" node -e '
const { Redis } = require("ioredis");
const r = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
r.connect().then(async () => {
  const old = await r.get(process.env.KEY);
  await r.del(process.env.KEY);
  console.log(`state-rebuild: deleted ${process.env.KEY} (was ${old ?? "absent"}) on ${process.env.REDIS_URL}; the service replays its topics from the earliest offset`);
  r.disconnect();
}).catch((e) => { console.error(`state-rebuild: ${e.message}`); process.exit(1); });
'
