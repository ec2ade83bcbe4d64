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
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';
import { InProcessEventBus } from '@recsys/infra/event-bus/event-bus.inprocess.adapter';
import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';
import type { EventBus, ProduceRecord, SubscribeOptions } from '@recsys/infra/event-bus/event-bus.port';
import { mulberry32 } from '@recsys/ann/synthetic';

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

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = get('out');
  if (!out) throw new Error('usage: bench-bus --out FILE.json [--events N] [--brokers host:port] [--batch N] [--partitions N] [--adapters kafka,inprocess]');
  return {
    out,
    events: Number(get('events') ?? 100_000),
    brokers: (get('brokers') ?? process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
    batch: Number(get('batch') ?? 500),
    partitions: Number(get('partitions') ?? 4),
    adapters: (get('adapters') ?? 'kafka,inprocess').split(','),
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

function svgChart(results: Result[], title: string): string {
  const w = 640;
  const barH = 28;
  const gap = 12;
  const left = 170;
  const top = 40;
  const max = Math.max(...results.map((r) => r.eventsPerSecond));
  const h = top + results.length * (barH + gap) + 30;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = results
    .map((r, i) => {
      const y = top + i * (barH + gap);
      const bw = Math.max(1, ((w - left - 110) * r.eventsPerSecond) / max);
      const fill = r.adapter === 'kafka' ? '#2f6db5' : '#3a9a5b';
      return [
        `<text x="${left - 8}" y="${y + barH / 2 + 5}" text-anchor="end">${esc(`${r.adapter} (${r.mode})`)}</text>`,
        `<rect x="${left}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" fill="${fill}"/>`,
        `<text x="${left + bw + 6}" y="${y + barH / 2 + 5}">${r.eventsPerSecond.toLocaleString('en-US')} ev/s</text>`,
      ].join('');
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>
${bars}
<text x="${w / 2}" y="${h - 8}" text-anchor="middle" fill="#555" font-size="11">events/s, produce + consume + JSON.parse handler (higher is better)</text>
</svg>
`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Other work on the machine skews the figures: recorded next to them.
  const loadAvg1mAtStart = round(loadavg()[0], 2);
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
  const cpu = cpus();
  const report = {
    command: `node ${relative(process.cwd(), process.argv[1])} ${process.argv.slice(2).join(' ')}`,
    machine: { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', memGiB: round(totalmem() / 2 ** 30, 1), node: process.version, loadAvg1mAtStart },
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
  writeFileSync(svgPath, svgChart(results, `EventBus throughput, ${args.events.toLocaleString('en-US')} events of ~${eventBytes} B`));
  console.log(`wrote ${args.out} and ${svgPath}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
