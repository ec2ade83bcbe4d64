/**
 * Event bus throughput: events/s through produce + consume + a trivial handler (JSON.parse of a
 * ~300-byte behaviour event), for the kafkajs adapter on a real broker and the embedded log, in
 * the same run. The subscriber is in place before the first produce; the clock runs from the first
 * produce to the last handled event. Each adapter is measured with a per-record handler and with
 * a batch handler (the port's two delivery modes).
 *
 *   npm run build && node dist/bench/bus/bench-bus.js --out bench/results/bus.json \
 *     [--events 100000] [--brokers 127.0.0.1:19092] [--batch 500] [--partitions 4] [--adapters kafka,inprocess]
 *
 * Writes the JSON to --out and a small SVG bar chart next to it (same name, .svg).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { InProcessEventBus } from '@recsys/infra/event-bus/event-bus.inprocess.adapter';
import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';
import type { EventBus, ProduceRecord, SubscribeOptions } from '@recsys/infra/event-bus/event-bus.port';
import { mulberry32 } from '@recsys/ann/synthetic';
import { cli, int, names, runMain, UsageError } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg, type Chart } from '../common/plot';

interface Args {
  out: string;
  events: number;
  brokers: string[];
  batch: number;
  partitions: number;
  adapters: string[];
}

interface Result {
  adapter: string;
  mode: 'record' | 'batch';
  events: number;
  seconds: number;
  eventsPerSecond: number;
  produceSeconds: number;
}

const USAGE = 'usage: bench-bus --out FILE.json [--events 100000] [--brokers host:port] [--batch 500] [--partitions 4] [--adapters kafka,inprocess]';

function parseArgs(argv: string[]): Args {
  const v = cli(
    argv,
    { out: { type: 'string' }, events: { type: 'string' }, brokers: { type: 'string' }, batch: { type: 'string' }, partitions: { type: 'string' }, adapters: { type: 'string' } },
    USAGE,
  );
  if (!v.out) throw new UsageError(`--out is required\n${USAGE}`);
  return {
    out: v.out,
    events: int(v.events, '--events', 100_000),
    brokers: (v.brokers ?? process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
    batch: int(v.batch, '--batch', 500),
    partitions: int(v.partitions, '--partitions', 4),
    adapters: names(v.adapters, '--adapters', ['kafka', 'inprocess'] as const, ['kafka', 'inprocess']),
  };
}

/** user.behaviors-like events keyed by user id, ~300 bytes of JSON each. */
function makeEvents(n: number): ProduceRecord[] {
  const r = mulberry32(42); // deterministic: every run sends the same events
  const types = ['view', 'click', 'like', 'add_to_cart', 'purchase'];
  const out: ProduceRecord[] = [];
  for (let i = 0; i < n; i++) {
    const userId = `u${Math.floor(r() * 10_000)}`;
    const event = {
      schema: 'user.behaviors/v1',
      eventId: `evt-${i.toString(36).padStart(8, '0')}-${Math.floor(r() * 1e9).toString(36)}`,
      key: userId,
      userId,
      itemId: `item-${Math.floor(r() * 200_000)}`,
      type: types[Math.floor(r() * types.length)],
      surface: 'home_feed',
      page: `/feed/home?tab=for-you&pos=${Math.floor(r() * 50)}`,
      dwellMs: Math.floor(r() * 30_000),
      ts: 1_760_000_000_000 + i * 10,
      context: { device: r() < 0.6 ? 'mobile' : 'web', locale: 'en-US', session: `s-${Math.floor(r() * 1e6)}` },
    };
    out.push({ key: userId, value: Buffer.from(JSON.stringify(event)), headers: { 'content-type': 'application/json' } });
  }
  return out;
}

async function measure(bus: EventBus, mode: 'record' | 'batch', events: ProduceRecord[], args: Args): Promise<Result> {
  const topic = `bench-bus-${bus.kind}-${mode}-${process.pid}-${Date.now().toString(36)}`;
  await bus.ensureTopics([{ topic, partitions: args.partitions }]);
  let handled = 0;
  let checksum = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const count = (n: number) => {
    handled += n;
    if (handled >= events.length) resolveDone();
  };
  const handle = (value: Buffer) => {
    checksum += (JSON.parse(value.toString('utf8')) as { dwellMs: number }).dwellMs;
  };
  const options: SubscribeOptions =
    mode === 'record'
      ? { groupId: topic, topics: [topic], fromBeginning: true, handler: async (rec) => (handle(rec.value), count(1)) }
      : { groupId: topic, topics: [topic], fromBeginning: true, maxBatchSize: 500, batchHandler: async (recs) => (recs.forEach((x) => handle(x.value)), count(recs.length)) };
  const sub = await bus.subscribe(options);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += args.batch) await bus.produce(topic, events.slice(i, i + args.batch));
  const produced = process.hrtime.bigint();
  await done;
  const t1 = process.hrtime.bigint();
  await sub.stop();
  if (handled !== events.length || checksum === 0) throw new Error(`${bus.kind}/${mode}: handled ${handled} of ${events.length}`);
  const seconds = Number(t1 - t0) / 1e9;
  return {
    adapter: bus.kind,
    mode,
    events: events.length,
    seconds: round(seconds, 3),
    eventsPerSecond: Math.round(events.length / seconds),
    produceSeconds: round(Number(produced - t0) / 1e9, 3),
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function chart(results: Result[], title: string): Chart {
  const cat = (r: Result) => `${r.adapter} (${r.mode})`;
  return {
    title,
    subtitle: 'produce + consume + JSON.parse handler (higher is better)',
    width: 640,
    height: 380,
    panels: [
      {
        x: { name: 'adapter (delivery mode)', type: 'category' },
        y: { name: 'events per second', min: 0 },
        series: [{ name: 'events/s', kind: 'bar', points: results.map((r) => ({ x: cat(r), y: r.eventsPerSecond, label: r.eventsPerSecond.toLocaleString('en-US') })) }],
      },
    ],
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Other work on the machine skews the figures: recorded next to them.
  const start = machine();
  const events = makeEvents(args.events);
  const eventBytes = Math.round(events.reduce((s, e) => s + (e.value as Buffer).length, 0) / events.length);
  const results: Result[] = [];
  for (const adapter of args.adapters) {
    for (const mode of ['record', 'batch'] as const) {
      const bus: EventBus =
        adapter === 'kafka'
          ? new KafkaEventBus({ brokers: args.brokers, clientId: 'bench-bus' })
          : adapter === 'inprocess'
            ? new InProcessEventBus()
            : (() => {
                throw new Error(`unknown adapter ${adapter}`);
              })();
      try {
        const r = await measure(bus, mode, events, args);
        console.log(`${r.adapter.padEnd(9)} ${r.mode.padEnd(6)} ${r.events} events in ${r.seconds}s = ${r.eventsPerSecond} ev/s (produce ${r.produceSeconds}s)`);
        results.push(r);
      } finally {
        await bus.close();
      }
    }
  }
  const report = {
    command: `node ${relative(process.cwd(), process.argv[1])} ${process.argv.slice(2).join(' ')}`,
    machine: machine({}, start),
    dataset: {
      description: 'synthetic user.behaviors JSON events keyed by userId (10k users, seed 42), one header',
      events: args.events,
      avgEventBytes: eventBytes,
      produceBatch: args.batch,
      partitions: args.partitions,
      handler: 'JSON.parse of the value',
      kafka: args.adapters.includes('kafka') ? { brokers: args.brokers, acks: 'all', idempotentProducer: true } : undefined,
    },
    results,
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(report, null, 2) + '\n');
  const svgPath = args.out.replace(/\.json$/, '') + '.svg';
  writeSvg(svgPath, chart(results, `EventBus throughput, ${args.events.toLocaleString('en-US')} events of ~${eventBytes} B`));
  console.log(`wrote ${args.out} and ${svgPath}`);
}

runMain(main);
