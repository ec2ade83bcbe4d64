import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { DLQ_HEADERS } from '@recsys/messaging';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * A redis-server of the drill's own (its port, its directory, AOF with appendfsync everysec as in
 * ops/): the drill stops and restarts it, never the shared server the other specs use.
 */
export class DrillRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'recsys-drill-redis-'));
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--appenddirname',
        'appendonly',
        '--protected-mode',
        'no',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 15_000;
    while (!(await redisAnswers(this.port))) {
      if (Date.now() > deadline) throw new Error(`drill redis-server on ${this.port} did not answer`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM: Redis flushes its AOF and exits (a restart). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    this.proc = null;
  }

  deleteAof(): void {
    rmSync(join(this.dir, 'appendonly'), { recursive: true, force: true });
    rmSync(join(this.dir, 'dump.rdb'), { force: true });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface DeadLetter {
  scope: string;
  code: string;
  sourcePartition: string;
  sourceOffset: string;
  eventId: string | null;
  key: string | null;
}

/** Every record of a DLQ topic (read with kafkajs through a one-off group, up to the end offsets at call time). */
export async function readDlq(brokers: string[], topic: string): Promise<DeadLetter[]> {
  const kafka = new Kafka({ brokers, clientId: 'drill-dlq-reader', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const goal = new Map(ends.filter((p) => BigInt(p.high) > 0n).map((p) => [p.partition, BigInt(p.high) - 1n]));
  const out: DeadLetter[] = [];
  if (goal.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `drill-dlq-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 100 });
  const seen = new Map<number, bigint>();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const h = (k: string) => message.headers?.[k]?.toString() ?? '';
      let eventId: string | null = null;
      try {
        eventId = JSON.parse(message.value!.toString()).eventId ?? null;
      } catch {
        /* not JSON */
      }
      if (BigInt(message.offset) <= (goal.get(partition) ?? -1n)) {
        out.push({
          scope: h(DLQ_HEADERS.consumerGroup),
          code: h(DLQ_HEADERS.code),
          sourcePartition: h(DLQ_HEADERS.sourcePartition),
          sourceOffset: h(DLQ_HEADERS.sourceOffset),
          eventId,
          key: message.key?.toString() ?? null,
        });
      }
      seen.set(partition, BigInt(message.offset));
    },
  });
  const deadline = Date.now() + 60_000;
  while (![...goal].every(([p, o]) => (seen.get(p) ?? -1n) >= o)) {
    if (Date.now() > deadline) throw new Error(`reading ${topic} timed out`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await consumer.disconnect();
  return out;
}

/** Counts by key. */
export function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
