// The adload domain on real PostgreSQL and Kafka: decisions logged into day partitions (retention
// drops old ones), session continuation, outcomes joined from feed.feedback and ads.events through
// Kafka exactly once under replay, and the learning job writing a report and staging a policy.
import { Registry } from 'prom-client';
import { AdloadService } from '../../apps/adload/src/adload.service';
import { loadAdloadConfig } from '../../apps/adload/src/adload.config';
import { partitionName } from '../../apps/adload/src/domain/decision-log';
import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';
import { PrefixedEventBus } from '@recsys/infra/event-bus/event-bus.prefixed';
import { InProcessJobQueue } from '@recsys/infra/job-queue/job-queue.inprocess.adapter';
import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import { migrate } from '@recsys/infra/sql/migrate';
import { EventPublisher } from '@recsys/messaging';
import { createLogger, type AppContext } from '@recsys/platform';
import { realInfra, uniqueName } from '@recsys/testing/infra';

const DAY = 86_400_000;

async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('adload on real PostgreSQL and Kafka', () => {
  const infra = realInfra();
  const schema = uniqueName('adload').replace(/-/g, '_');
  let admin: PgSqlDatabase;
  let sql: PgSqlDatabase;
  let bus: PrefixedEventBus;
  let svc: AdloadService;
  let ctx: AppContext;

  beforeAll(async () => {
    admin = new PgSqlDatabase(infra.databaseUrl, 2);
    await admin.exec(`CREATE SCHEMA ${schema}`);
    const url = new URL(infra.databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    sql = new PgSqlDatabase(url.toString(), 8);
    await migrate(sql);
    bus = new PrefixedEventBus(new KafkaEventBus({ brokers: infra.kafkaBrokers, clientId: 'adload-int' }), `${uniqueName('adl')}.`);
    const jobs = new InProcessJobQueue();
    ctx = {
      name: 'adload',
      infra: { bus, sql, jobs, state: undefined as never, kinds: { bus: 'kafka', sql: 'pg', jobs: 'inprocess', state: 'none' }, close: async () => undefined },
      log: createLogger('silent'),
      metrics: new Registry(),
      subscriptions: [],
      shutdownHooks: [],
    } as unknown as AppContext;
    const config = loadAdloadConfig({
      ADLOAD_SURFACES: '{"home":{"actions":[0,1,2,3],"pageSize":10,"lambda":1}}',
      ADLOAD_LEARN_INTERVAL_MS: '0',
      ADLOAD_MIN_ROUNDS: '200',
      ADLOAD_RETENTION_DAYS: '30',
    });
    svc = new AdloadService(ctx, config);
    await svc.start();
  });

  afterAll(async () => {
    for (const s of ctx?.subscriptions ?? []) await s.stop();
    for (const h of ctx?.shutdownHooks ?? []) await h();
    await (ctx?.infra.jobs as InProcessJobQueue | undefined)?.close();
    await bus?.close();
    await sql?.close();
    await admin?.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.close();
  });

  it('logs decisions in day partitions with their propensities, and retention drops old partitions', async () => {
    const now = Date.now();
    const days = [now - 40 * DAY, now - 2 * DAY, now];
    for (const t of days) svc.decide({ userId: 'u-part', surface: 'home', sessionFetchIndex: 0 }, t);
    await svc.writer.flush();
    const parts = await svc.log.partitions();
    for (const t of days) expect(parts).toContain(partitionName(Math.floor(t / DAY)));
    const rows = await sql.query<{ n: string; p: number }>(`SELECT count(*) AS n, min(propensity) AS p FROM adload_decisions WHERE user_id = 'u-part'`);
    expect(Number(rows.rows[0].n)).toBe(3);
    expect(rows.rows[0].p).toBeGreaterThanOrEqual(0.1 / 4);
    const dropped = await svc.log.applyRetention(30, now);
    expect(dropped).toEqual([partitionName(Math.floor((now - 40 * DAY) / DAY))]);
    const after = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM adload_decisions WHERE user_id = 'u-part'`);
    expect(Number(after.rows[0].n)).toBe(2);
  });

  it('marks session continuation for a fetch followed by another within the window only', async () => {
    const t = Date.now() - 3 * 3_600_000;
    const a = svc.decide({ userId: 'u-cont', surface: 'home', sessionFetchIndex: 0, requestId: 'req-cont-a' }, t);
    const b = svc.decide({ userId: 'u-cont', surface: 'home', sessionFetchIndex: 1, requestId: 'req-cont-b' }, t + 5 * 60_000);
    await svc.writer.flush();
    svc.decide({ userId: 'u-cont', surface: 'home', sessionFetchIndex: 0, requestId: 'req-cont-c' }, t + 2 * 3_600_000);
    await svc.writer.flush();
    expect(await svc.log.markContinuations(t - 60_000, t + 3 * 3_600_000)).toBeGreaterThanOrEqual(1);
    // Idempotent: a second pass changes nothing.
    expect(await svc.log.markContinuations(t - 60_000, t + 3 * 3_600_000)).toBe(0);
    const r = await sql.query<{ request_id: string; continued: boolean }>(`SELECT request_id, continued FROM adload_outcomes WHERE request_id LIKE 'req-cont-%' ORDER BY request_id`);
    expect(r.rows).toEqual([{ request_id: a.requestId, continued: true }]);
    expect(b.requestId).toBe('req-cont-b');
  });

  it('joins feed.feedback and ads.events through Kafka exactly once, also when the events are replayed', async () => {
    const publisher = new EventPublisher(bus);
    const t = Date.now();
    svc.decide({ userId: 'u-out', surface: 'home', sessionFetchIndex: 0, requestId: 'req-out' }, t);
    await svc.writer.flush();
    const feedback = [
      { eventId: 'fb-1', key: 'u-out', timestamp: t, schemaVersion: 1 as const, requestId: 'req-out', userId: 'u-out', itemId: 'i1', type: 'click' as const },
      { eventId: 'fb-2', key: 'u-out', timestamp: t, schemaVersion: 1 as const, requestId: 'req-out', userId: 'u-out', itemId: 'i2', type: 'dwell' as const, value: 12_000 },
      { eventId: 'fb-3', key: 'u-out', timestamp: t, schemaVersion: 1 as const, requestId: 'req-out', userId: 'u-out', itemId: 'i3', type: 'hide' as const },
    ];
    const ads = [{ eventId: 'ad-1', key: 'ad-9', timestamp: t, schemaVersion: 1 as const, adId: 'ad-9', campaignId: 'c1', type: 'spend' as const, requestId: 'req-out', amountMicros: 250_000 }];
    await publisher.publish('feed.feedback', feedback);
    await publisher.publish('ads.events', ads);
    const expected = { clicks: 1, hides: 1, dwell_ms: 12000, revenue_micros: '250000' };
    const read = async () => (await sql.query<any>(`SELECT clicks, hides, dwell_ms, revenue_micros FROM adload_outcomes WHERE request_id = 'req-out'`)).rows[0];
    await until(async () => {
      const r = await read();
      return r && r.clicks === 1 && r.hides === 1 && Number(r.revenue_micros) === 250_000 && r;
    });
    // Replay: the same events again (a producer retry or a topic replay), then a marker event we wait for.
    await publisher.publish('feed.feedback', feedback);
    await publisher.publish('ads.events', ads);
    await publisher.publish('feed.feedback', [{ ...feedback[0], eventId: 'fb-marker', itemId: 'i9' }]);
    await until(async () => (await read())?.clicks === 2);
    const r = await read();
    expect({ ...r, revenue_micros: String(r.revenue_micros) }).toEqual({ ...expected, clicks: 2 });
  });

  it('the learning job reports every estimator for the live policy and the candidates, and stages by the rule', async () => {
    const now = Date.now();
    // 1,500 decisions with outcomes: ads cost satisfaction (continuation) and bring revenue.
    for (let i = 0; i < 1500; i++) {
      const d = svc.decide({ userId: `u-l${i}`, surface: 'home', sessionFetchIndex: i % 4, requestId: `req-l${i}`, context: { segment: i % 2 ? 'heavy' : 'casual' } }, now - 10 * 60_000 - i);
      if ((i * 7919) % 100 < 80 - 15 * d.adSlots) svc.decide({ userId: `u-l${i}`, surface: 'home', sessionFetchIndex: (i % 4) + 1, requestId: `req-l${i}-next` }, now - 10 * 60_000 - i + 60_000);
    }
    await svc.writer.flush();
    const res = await svc.learnSurface('home', now);
    expect(res.rounds).toBeGreaterThan(1500);
    expect(res.reportId).toBeTruthy();
    const rep = await svc.policies.report(res.reportId!);
    expect(Object.keys(rep!.body.live.estimators).sort()).toEqual(['clipped_ips', 'dm', 'dr', 'dros', 'ips', 'sndr', 'snips', 'switch_dr']);
    expect(rep!.body.candidates.length).toBe(2 + 4);
    const policies = await svc.policies.list('home');
    expect(policies.filter((p) => p.status === 'live')).toHaveLength(1);
    if (res.staged) {
      expect(policies.find((p) => p.policyId === res.staged!.policyId)?.status).toBe('staged');
      const winner = rep!.body.candidates.find((c) => c.staged);
      expect(winner?.guardrailOk).toBe(true);
    } else {
      expect(rep!.body.winner).toBeNull();
    }
  });
});
