import type { SqlDatabase, SqlExecutor } from '@recsys/infra/sql/sql.port';
import { addSums, applyUserEvent, zeroPre, zeroTotals, type ByDay, type UserPre, type UserTotals, type VariantSums } from '@recsys/experiments';
import type { AdloadLogOp, Fact } from './facts';

/** Days of activity before the first exposure that make the CUPED covariates. */
export const PRE_PERIOD_DAYS = 14;
/** Unattributed events wait this long (since they arrived) for their user's exposure. */
export const PENDING_TTL_MS = 24 * 3600 * 1000;
/** Logged ad-load decisions older than this (event time) are dropped. */
export const ADLOAD_LOG_RETENTION_MS = 14 * 24 * 3600 * 1000;
const ADLOAD_PRUNE_EVERY_MS = 60_000;

interface ExposureRow {
  experiment_key: string;
  user_id: string;
  variant: string;
  first_ts: number;
  last_active_day: string;
  totals: UserTotals;
  pre: UserPre;
  byDay: ByDay;
  isNew: boolean;
  dirty: boolean;
}

const asDay = (d: unknown) => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d).slice(0, 10));
const json = (x: unknown) => (typeof x === 'string' ? JSON.parse(x) : x);

/** Serialises this process's writers (the SQL row locks do it across replicas). */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * Per-user totals and per-variant sufficient statistics, maintained incrementally: one
 * transaction per consumed batch marks its event ids (processed_events), updates the exposures
 * it touches and adds their changes to the variant sums and to the day's sums. A replayed event
 * finds its id and changes nothing.
 */
export class MetricsStore {
  private readonly mutex = new Mutex();
  /** Event time of the last retention pass over exp_adload_log. */
  private adloadPrunedAt = -Infinity;
  constructor(private readonly db: SqlDatabase) {}

  apply(consumer: string, facts: Fact[], adload: AdloadLogOp[] = []): Promise<{ applied: number }> {
    if (facts.length === 0 && adload.length === 0) return Promise.resolve({ applied: 0 });
    return this.mutex.run(() => this.db.transaction((tx) => this.applyTx(tx, consumer, facts, adload)));
  }

  private async applyTx(tx: SqlExecutor, consumer: string, allFacts: Fact[], adload: AdloadLogOp[]) {
    const ids = [...new Set(allFacts.map((f) => f.eventId))];
    let fresh = new Set<string>();
    if (ids.length) {
      const r = await tx.query<{ event_id: string }>(
        `INSERT INTO processed_events (consumer, event_id) SELECT $1, x FROM jsonb_array_elements_text($2::jsonb) AS x ON CONFLICT DO NOTHING RETURNING event_id`,
        [consumer, JSON.stringify(ids)],
      );
      fresh = new Set(r.rows.map((x) => x.event_id));
    }
    const seen = new Set<string>();
    const facts = allFacts.filter((f) => fresh.has(f.eventId) && !seen.has(f.eventId) && seen.add(f.eventId));
    // Decisions are keyed by request id (idempotent); clicks count once per fresh event id.
    await this.writeAdloadLog(
      tx,
      adload.filter((a) => a.policyId !== undefined || fresh.has(a.eventId)),
    );
    if (facts.length === 0) return { applied: 0 };

    // Daily activity of every user (the pre-period of later exposures).
    const act = new Map<string, { user_id: string; day: string; fetches: number; clicks: number; dwell_sec: number; revenue: number }>();
    for (const f of facts) {
      const k = `${f.userId}\u0000${f.day}`;
      const a = act.get(k) ?? { user_id: f.userId, day: f.day, fetches: 0, clicks: 0, dwell_sec: 0, revenue: 0 };
      a.fetches += f.deltas.fetches ?? 0;
      a.clicks += f.deltas.clicks ?? 0;
      a.dwell_sec += f.deltas.dwellSec ?? 0;
      a.revenue += f.deltas.revenue ?? 0;
      act.set(k, a);
    }
    await tx.query(
      `INSERT INTO exp_user_activity (user_id, day, fetches, clicks, dwell_sec, revenue)
       SELECT user_id, day, fetches, clicks, dwell_sec, revenue FROM jsonb_to_recordset($1::jsonb)
         AS x(user_id text, day date, fetches float8, clicks float8, dwell_sec float8, revenue float8)
       ON CONFLICT (user_id, day) DO UPDATE SET fetches = exp_user_activity.fetches + EXCLUDED.fetches,
         clicks = exp_user_activity.clicks + EXCLUDED.clicks, dwell_sec = exp_user_activity.dwell_sec + EXCLUDED.dwell_sec,
         revenue = exp_user_activity.revenue + EXCLUDED.revenue`,
      [JSON.stringify([...act.values()])],
    );

    const running = await this.runningVariants(tx);
    if (running.size === 0) return { applied: facts.length };
    const users = [...new Set(facts.map((f) => f.userId))];
    const byUser = await this.lockExposures(tx, users, running);

    // New exposures: first impression of a user carrying a running experiment's variant.
    const newExposures: Array<{ user: string; day: string; row: ExposureRow }> = [];
    for (const f of facts) {
      for (const [exp, variant] of Object.entries(f.variants ?? {})) {
        if (!running.get(exp)?.has(variant)) continue;
        const list = byUser.get(f.userId) ?? [];
        if (list.some((x) => x.experiment_key === exp)) continue;
        const row: ExposureRow = { experiment_key: exp, user_id: f.userId, variant, first_ts: f.ts, last_active_day: f.day, totals: zeroTotals(), pre: zeroPre(), byDay: {}, isNew: true, dirty: true };
        list.push(row);
        byUser.set(f.userId, list);
        newExposures.push({ user: f.userId, day: f.day, row });
      }
    }
    let pendingFacts: Fact[] = [];
    if (newExposures.length) {
      await this.fillPre(tx, newExposures);
      const r = await tx.query<{ event_id: string; user_id: string; ts: string | number; deltas: unknown }>(
        `DELETE FROM exp_pending_events WHERE user_id IN (SELECT jsonb_array_elements_text($1::jsonb)) RETURNING event_id, user_id, ts, deltas`,
        [JSON.stringify([...new Set(newExposures.map((e) => e.user))])],
      );
      pendingFacts = r.rows.map((p) => {
        const ts = Number(p.ts);
        return { eventId: p.event_id, userId: p.user_id, ts, day: new Date(ts).toISOString().slice(0, 10), deltas: json(p.deltas), isFetch: false };
      });
    }

    const variantDelta = new Map<string, VariantSums>();
    const dailyDelta = new Map<string, VariantSums>();
    const pending: Fact[] = [];
    const ordered = [...facts, ...pendingFacts];
    for (const f of ordered) {
      const all = byUser.get(f.userId) ?? [];
      if (all.length === 0) {
        if (!f.variants) pending.push(f);
        continue;
      }
      // Only what happens from the first exposure on counts (earlier activity is the pre-period).
      const exposures = all.filter((x) => x.first_ts <= f.ts);
      for (const x of exposures) {
        const deltas: Partial<UserTotals> = { ...f.deltas };
        // An active day is a day with a feed fetch.
        if (f.isFetch && !((x.byDay[f.day]?.fetches ?? 0) > 0)) deltas.activeDays = 1;
        const out = applyUserEvent(x.byDay, x.isNew, x.pre, f.day, deltas);
        for (const [k, v] of Object.entries(deltas)) x.totals[k as keyof UserTotals] += v ?? 0;
        if (f.day > x.last_active_day) x.last_active_day = f.day;
        x.isNew = false;
        x.dirty = true;
        const vk = `${x.experiment_key}\u0000${x.variant}`;
        variantDelta.set(vk, addSums(variantDelta.get(vk) ?? {}, out.total));
        for (const [day, d] of out.daily) {
          const dk = `${vk}\u0000${day}`;
          dailyDelta.set(dk, addSums(dailyDelta.get(dk) ?? {}, d));
        }
      }
    }

    const dirty = [...byUser.values()].flat().filter((x) => x.dirty);
    if (dirty.length) {
      await tx.query(
        `INSERT INTO exp_exposures (experiment_key, user_id, variant, first_ts, last_active_day, totals, pre, by_day)
         SELECT experiment_key, user_id, variant, first_ts, last_active_day, totals, pre, by_day FROM jsonb_to_recordset($1::jsonb)
           AS x(experiment_key text, user_id text, variant text, first_ts bigint, last_active_day date, totals jsonb, pre jsonb, by_day jsonb)
         ON CONFLICT (experiment_key, user_id) DO UPDATE SET totals = EXCLUDED.totals, last_active_day = EXCLUDED.last_active_day, by_day = EXCLUDED.by_day`,
        [JSON.stringify(dirty.map(({ isNew: _n, dirty: _d, byDay, ...r }) => ({ ...r, by_day: byDay })))],
      );
    }
    await this.addToSums(tx, 'exp_variant_sums', variantDelta, false);
    await this.addToSums(tx, 'exp_daily_sums', dailyDelta, true);
    if (pending.length) {
      await tx.query(
        `INSERT INTO exp_pending_events (event_id, user_id, ts, deltas) SELECT event_id, user_id, ts, deltas FROM jsonb_to_recordset($1::jsonb)
           AS x(event_id text, user_id text, ts bigint, deltas jsonb) ON CONFLICT DO NOTHING`,
        [JSON.stringify(pending.map((p) => ({ event_id: p.eventId, user_id: p.userId, ts: p.ts, deltas: p.deltas })))],
      );
      await tx.query(`DELETE FROM exp_pending_events WHERE received_at < now() - make_interval(secs => $1)`, [PENDING_TTL_MS / 1000]);
    }
    return { applied: facts.length };
  }

  private async runningVariants(tx: SqlExecutor): Promise<Map<string, Set<string>>> {
    const r = await tx.query<{ key: string; variants: unknown }>(`SELECT key, variants FROM experiments WHERE status = 'running'`);
    return new Map(r.rows.map((x) => [x.key, new Set((json(x.variants) as Array<{ key: string }>).map((v) => v.key))]));
  }

  private async lockExposures(tx: SqlExecutor, users: string[], running: Map<string, Set<string>>) {
    const r = await tx.query<{ experiment_key: string; user_id: string; variant: string; first_ts: string | number; last_active_day: unknown; totals: unknown; pre: unknown; by_day: unknown }>(
      `SELECT experiment_key, user_id, variant, first_ts, last_active_day, totals, pre, by_day FROM exp_exposures
        WHERE user_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY experiment_key, user_id FOR UPDATE`,
      [JSON.stringify(users)],
    );
    const byUser = new Map<string, ExposureRow[]>();
    for (const x of r.rows) {
      if (!running.has(x.experiment_key)) continue;
      const row: ExposureRow = {
        experiment_key: x.experiment_key,
        user_id: x.user_id,
        variant: x.variant,
        first_ts: Number(x.first_ts),
        last_active_day: asDay(x.last_active_day),
        totals: { ...zeroTotals(), ...json(x.totals) },
        pre: { ...zeroPre(), ...json(x.pre) },
        byDay: json(x.by_day) ?? {},
        isNew: false,
        dirty: false,
      };
      byUser.set(x.user_id, [...(byUser.get(x.user_id) ?? []), row]);
    }
    return byUser;
  }

  private async fillPre(tx: SqlExecutor, exposures: Array<{ user: string; day: string; row: ExposureRow }>) {
    const keys = [...new Map(exposures.map((e) => [`${e.user}\u0000${e.day}`, { u: e.user, d: e.day }])).values()];
    const r = await tx.query<{ u: string; d: unknown; fetches: number; clicks: number; dwell: number; revenue: number }>(
      `SELECT t.u, t.d, coalesce(sum(a.fetches), 0)::float8 AS fetches, coalesce(sum(a.clicks), 0)::float8 AS clicks,
              coalesce(sum(a.dwell_sec), 0)::float8 AS dwell, coalesce(sum(a.revenue), 0)::float8 AS revenue
         FROM jsonb_to_recordset($1::jsonb) AS t(u text, d date)
         LEFT JOIN exp_user_activity a ON a.user_id = t.u AND a.day >= t.d - ${PRE_PERIOD_DAYS} AND a.day < t.d
        GROUP BY t.u, t.d`,
      [JSON.stringify(keys)],
    );
    const pre = new Map(r.rows.map((x) => [`${x.u}\u0000${asDay(x.d)}`, x]));
    for (const e of exposures) {
      const p = pre.get(`${e.user}\u0000${e.day}`);
      if (p) e.row.pre = { preFetches: Number(p.fetches), preClicks: Number(p.clicks), preDwellSec: Number(p.dwell), preRevenue: Number(p.revenue) };
    }
  }

  private async addToSums(tx: SqlExecutor, table: 'exp_variant_sums' | 'exp_daily_sums', deltas: Map<string, VariantSums>, daily: boolean) {
    if (deltas.size === 0) return;
    const rows = [...deltas.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, d]) => {
        const [experiment_key, variant, day] = k.split('\u0000');
        return { experiment_key, variant, ...(daily ? { day } : {}), d };
      });
    const cols = daily ? 'experiment_key text, variant text, day date' : 'experiment_key text, variant text';
    const keyCols = daily ? 'experiment_key, variant, day' : 'experiment_key, variant';
    const payload = JSON.stringify(rows.map(({ d: _d, ...k }) => k));
    await tx.query(`INSERT INTO ${table} (${keyCols}) SELECT ${keyCols} FROM jsonb_to_recordset($1::jsonb) AS x(${cols}) ON CONFLICT DO NOTHING`, [payload]);
    const cur = await tx.query<{ experiment_key: string; variant: string; day?: unknown; sums: unknown }>(
      `SELECT s.experiment_key, s.variant, ${daily ? 's.day, ' : ''}s.sums FROM ${table} s
         JOIN jsonb_to_recordset($1::jsonb) AS x(${cols}) USING (${keyCols})
        ORDER BY ${keyCols} FOR UPDATE OF s`,
      [payload],
    );
    const current = new Map(cur.rows.map((r) => [`${r.experiment_key}\u0000${r.variant}${daily ? `\u0000${asDay(r.day)}` : ''}`, json(r.sums) as VariantSums]));
    const updated = rows.map((r) => {
      const k = `${r.experiment_key}\u0000${r.variant}${daily ? `\u0000${r.day}` : ''}`;
      return { experiment_key: r.experiment_key, variant: r.variant, ...(daily ? { day: r.day } : {}), sums: addSums({ ...(current.get(k) ?? {}) }, r.d) };
    });
    await tx.query(
      `UPDATE ${table} s SET sums = x.sums FROM jsonb_to_recordset($1::jsonb) AS x(${cols}, sums jsonb)
        WHERE s.experiment_key = x.experiment_key AND s.variant = x.variant${daily ? ' AND s.day = x.day' : ''}`,
      [JSON.stringify(updated)],
    );
  }

  private async writeAdloadLog(tx: SqlExecutor, ops: AdloadLogOp[]) {
    const inserts = ops.filter((o) => o.policyId !== undefined);
    const clicks = ops.filter((o) => o.policyId === undefined && o.clicks);
    if (inserts.length) {
      await tx.query(
        `INSERT INTO exp_adload_log (request_id, ts, policy_id, ad_slots, propensity) SELECT request_id, ts, policy_id, ad_slots, propensity
           FROM jsonb_to_recordset($1::jsonb) AS x(request_id text, ts bigint, policy_id text, ad_slots int, propensity float8) ON CONFLICT DO NOTHING`,
        [JSON.stringify(inserts.map((o) => ({ request_id: o.requestId, ts: o.ts, policy_id: o.policyId, ad_slots: o.adSlots, propensity: o.propensity })))],
      );
      const newest = Math.max(...inserts.map((o) => o.ts ?? 0));
      // Retention needs no precision finer than a minute of event time, so it runs at most once a minute of it.
      if (newest - this.adloadPrunedAt >= ADLOAD_PRUNE_EVERY_MS) {
        await tx.query('DELETE FROM exp_adload_log WHERE ts < $1', [newest - ADLOAD_LOG_RETENTION_MS]);
        this.adloadPrunedAt = newest;
      }
    }
    if (clicks.length) {
      const per = new Map<string, number>();
      for (const c of clicks) per.set(c.requestId, (per.get(c.requestId) ?? 0) + (c.clicks ?? 0));
      await tx.query(`UPDATE exp_adload_log l SET clicks = l.clicks + x.clicks FROM jsonb_to_recordset($1::jsonb) AS x(request_id text, clicks float8) WHERE l.request_id = x.request_id`, [
        JSON.stringify([...per].map(([request_id, c]) => ({ request_id, clicks: c }))),
      ]);
    }
  }

  /** Creates the sums rows of a starting experiment's variants. */
  async initVariants(tx: SqlExecutor, key: string, variants: string[]) {
    await tx.query(`INSERT INTO exp_variant_sums (experiment_key, variant) SELECT $1, x FROM jsonb_array_elements_text($2::jsonb) AS x ON CONFLICT DO NOTHING`, [key, JSON.stringify(variants)]);
  }

  async variantSums(key: string): Promise<Map<string, VariantSums>> {
    const r = await this.db.query<{ variant: string; sums: unknown }>('SELECT variant, sums FROM exp_variant_sums WHERE experiment_key = $1', [key]);
    return new Map(r.rows.map((x) => [x.variant, json(x.sums) as VariantSums]));
  }

  async dailySums(key: string): Promise<Array<{ variant: string; day: string; sums: VariantSums }>> {
    const r = await this.db.query<{ variant: string; day: unknown; sums: unknown }>('SELECT variant, day, sums FROM exp_daily_sums WHERE experiment_key = $1 ORDER BY day', [key]);
    return r.rows.map((x) => ({ variant: x.variant, day: asDay(x.day), sums: json(x.sums) as VariantSums }));
  }

  async adloadLog(limit = 200_000): Promise<Array<{ adSlots: number; propensity: number; clicks: number }>> {
    const r = await this.db.query<{ ad_slots: number; propensity: number; clicks: number }>('SELECT ad_slots, propensity, clicks FROM exp_adload_log ORDER BY ts DESC LIMIT $1', [limit]);
    return r.rows.map((x) => ({ adSlots: Number(x.ad_slots), propensity: Number(x.propensity), clicks: Number(x.clicks) }));
  }
}
