import type { SqlDatabase, SqlExecutor } from '@recsys/infra/sql/sql.port';

/** One logged decision (a row of the day-partitioned adload_decisions). */
export interface DecisionRecord {
  decisionId: string;
  ts: number;
  requestId: string;
  userId: string;
  surface: string;
  sessionFetchIndex: number;
  contextKey: string;
  context: Record<string, unknown>;
  action: number;
  adSlots: number;
  propensity: number;
  probs: number[];
  policyId: string;
  policyVersion: number;
}

const DAY = 86_400_000;
export const partitionName = (day: number) => `adload_decisions_p${new Date(day * DAY).toISOString().slice(0, 10).replace(/-/g, '')}`;
const dayOf = (ts: number) => Math.floor(ts / DAY);

/**
 * The decision log: day partitions of adload_decisions (declarative range partitioning, UTC days)
 * created on demand, dropped past the retention; rows written in batches (one INSERT of unnest()ed
 * arrays per batch); session continuation is derived from the log itself (markContinuations).
 */
export class DecisionLog {
  private readonly ensured = new Set<number>();

  constructor(
    private readonly sql: SqlDatabase,
    private readonly continuationMs: number,
  ) {}

  async ensurePartition(day: number, tx: SqlExecutor = this.sql): Promise<void> {
    if (this.ensured.has(day)) return;
    const from = new Date(day * DAY).toISOString();
    const to = new Date((day + 1) * DAY).toISOString();
    await tx.exec(`CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF adload_decisions FOR VALUES FROM ('${from}') TO ('${to}')`);
    this.ensured.add(day);
  }

  /** Partitions of adload_decisions, oldest first. */
  async partitions(): Promise<string[]> {
    const r = await this.sql.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'adload_decisions' AND n.nspname = current_schema() ORDER BY c.relname`,
    );
    return r.rows.map((x) => x.name);
  }

  /** Drops the day partitions that end before now - retentionDays. Returns the dropped names. */
  async applyRetention(retentionDays: number, now = Date.now()): Promise<string[]> {
    const keepFrom = dayOf(now) - retentionDays + 1;
    const dropped: string[] = [];
    for (const name of await this.partitions()) {
      const m = /^adload_decisions_p(\d{4})(\d{2})(\d{2})$/.exec(name);
      if (!m) continue;
      const day = dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
      if (day < keepFrom) {
        await this.sql.exec(`DROP TABLE IF EXISTS ${name}`);
        this.ensured.delete(day);
        dropped.push(name);
      }
    }
    return dropped;
  }

  /** Writes a batch of decisions (idempotent by decision id and time): one INSERT of unnest()ed arrays. */
  async write(batch: DecisionRecord[]): Promise<void> {
    if (batch.length === 0) return;
    for (const d of new Set(batch.map((b) => dayOf(b.ts)))) await this.ensurePartition(d);
    const col = <K extends keyof DecisionRecord>(k: K) => batch.map((b) => b[k]);
    await this.sql.query(
      `INSERT INTO adload_decisions (decision_id, ts, request_id, user_id, surface, session_fetch_index, context_key, context, action, ad_slots, propensity, probs, policy_id, policy_version)
         SELECT d, to_timestamp(t / 1000.0), r, u, s, f, k, c::jsonb, a, n, p, string_to_array(pr, ',')::float8[], pi, pv
         FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::int[], $10::int[], $11::float8[], $12::text[], $13::text[], $14::int[])
           AS x(d, t, r, u, s, f, k, c, a, n, p, pr, pi, pv)
         ON CONFLICT DO NOTHING`,
      [
        col('decisionId'),
        col('ts'),
        col('requestId'),
        col('userId'),
        col('surface'),
        col('sessionFetchIndex'),
        col('contextKey'),
        batch.map((b) => JSON.stringify(b.context)),
        col('action'),
        col('adSlots'),
        col('propensity'),
        batch.map((b) => b.probs.join(',')),
        col('policyId'),
        col('policyVersion'),
      ],
    );
  }

  /**
   * Session continuation of the decisions in [from, to): a decision is continued when the same
   * user's next decision (by time, then fetch index) comes within the continuation window. Stored
   * in adload_outcomes.continued (idempotent); computed off the write path (one window query), so
   * the writer only inserts.
   */
  async markContinuations(from: number, to: number): Promise<number> {
    const r = await this.sql.query(
      `INSERT INTO adload_outcomes (request_id, continued)
       SELECT DISTINCT request_id, true FROM (
         SELECT request_id, ts, lead(ts) OVER (PARTITION BY user_id ORDER BY ts, session_fetch_index) AS next_ts
         FROM adload_decisions WHERE ts >= to_timestamp($1::float8 / 1000.0) AND ts < to_timestamp(($2::float8 + $3::float8) / 1000.0)
       ) x
       WHERE ts < to_timestamp($2::float8 / 1000.0) AND next_ts IS NOT NULL AND next_ts <= ts + make_interval(secs => $3::float8 / 1000.0)
       ON CONFLICT (request_id) DO UPDATE SET continued = true, updated_at = now() WHERE adload_outcomes.continued = false`,
      [from, to, this.continuationMs],
    );
    return r.rowCount;
  }

  /** Decisions of a surface in [from, to) joined with their outcomes. */
  async window(surface: string, from: number, to: number): Promise<JoinedRound[]> {
    await this.markContinuations(from, to);
    const r = await this.sql.query<JoinedDbRow>(
      `SELECT d.context_key, d.action, d.propensity, d.policy_id, coalesce(o.clicks, 0) AS clicks, coalesce(o.hides, 0) AS hides,
              coalesce(o.dwell_ms, 0) AS dwell_ms, coalesce(o.ad_clicks, 0) AS ad_clicks, coalesce(o.revenue_micros, 0) AS revenue_micros,
              coalesce(o.continued, false) AS continued
       FROM adload_decisions d LEFT JOIN adload_outcomes o ON o.request_id = d.request_id
       WHERE d.surface = $1 AND d.ts >= to_timestamp($2 / 1000.0) AND d.ts < to_timestamp($3 / 1000.0)`,
      [surface, from, to],
    );
    return r.rows.map((x) => ({
      contextKey: x.context_key,
      action: Number(x.action),
      propensity: Number(x.propensity),
      policyId: x.policy_id,
      clicks: Number(x.clicks),
      hides: Number(x.hides),
      dwellMs: Number(x.dwell_ms),
      adClicks: Number(x.ad_clicks),
      revenueMicros: Number(x.revenue_micros),
      continued: x.continued === true || x.continued === 't',
    }));
  }
}

/** A joined decision row as the driver returns it (numerics may come as strings, booleans as 't'/'f'). */
interface JoinedDbRow {
  context_key: string;
  action: number | string;
  propensity: number | string;
  policy_id: string;
  clicks: number | string;
  hides: number | string;
  dwell_ms: number | string;
  ad_clicks: number | string;
  revenue_micros: number | string;
  continued: boolean | string;
}

export interface JoinedRound {
  contextKey: string;
  action: number;
  propensity: number;
  policyId: string;
  clicks: number;
  hides: number;
  dwellMs: number;
  adClicks: number;
  revenueMicros: number;
  continued: boolean;
}

/** Buffers decisions and writes them in batches (size or interval), never on the request path. */
export class DecisionWriter {
  private buf: DecisionRecord[] = [];
  private timer?: NodeJS.Timeout;
  private inflight: Promise<void> = Promise.resolve();
  written = 0;
  failed = 0;

  constructor(
    private readonly log: DecisionLog,
    private readonly batchSize: number,
    private readonly flushMs: number,
    private readonly onError: (e: unknown, n: number) => void = () => undefined,
  ) {}

  push(d: DecisionRecord): void {
    this.buf.push(d);
    if (this.buf.length >= this.batchSize) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  get pending(): number {
    return this.buf.length;
  }

  /** Writes what is buffered (after any write in flight); resolves when it is in the database. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buf;
    this.buf = [];
    this.inflight = this.inflight.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.log.write(batch);
        this.written += batch.length;
      } catch (e) {
        this.failed += batch.length;
        this.onError(e, batch.length);
      }
    });
    return this.inflight;
  }
}
