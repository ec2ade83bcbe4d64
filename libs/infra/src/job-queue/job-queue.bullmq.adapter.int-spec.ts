import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { jobQueueContract } from './job-queue.contract';
import { BullMqJobQueue } from './job-queue.bullmq.adapter';

const { redisUrl } = realInfra();
// One BullMQ prefix for this run; every key under it is deleted at the end.
const prefix = uniqueName('bq');

afterAll(async () => {
  const raw = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await raw.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await raw.quit();
});

jobQueueContract('bullmq', async () => new BullMqJobQueue(redisUrl, { prefix, backoffDelayMs: 10 }));

describe('BullMqJobQueue specifics', () => {
  it('keeps jobs in Redis under its prefix, so another instance sees them', async () => {
    const a = new BullMqJobQueue(redisUrl, { prefix });
    const b = new BullMqJobQueue(redisUrl, { prefix });
    const q = uniqueName('shared');
    try {
      const id = await a.add(q, { from: 'a' }, { jobId: 'shared-job' });
      assert.deepEqual((await b.get(q, id))!.data, { from: 'a' });
      assert.equal(await b.add(q, { from: 'b' }, { jobId: 'shared-job' }), id);
      await b.process(q, async (job) => `ran ${JSON.stringify(job.data)}`);
      const done = await a.waitFor(q, id, 5000);
      assert.equal(done.result, 'ran {"from":"a"}');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reports a job waiting for its retry backoff as waiting', async () => {
    const jq = new BullMqJobQueue(redisUrl, { prefix, backoffDelayMs: 1000 });
    const q = uniqueName('delayed');
    try {
      await jq.process(q, async (job) => {
        if (job.attempt === 1) throw new Error('first fails');
        return 'second ok';
      });
      const id = await jq.add(q, {}, { attempts: 2 });
      let sawWaitingAfterFailure = false;
      const deadline = Date.now() + 5000;
      for (;;) {
        const s = (await jq.get(q, id))!;
        if (s.state === 'completed') break;
        if (s.state === 'waiting' && s.progress === 0 && Date.now() < deadline) {
          const raw = new Redis(redisUrl);
          const delayed = await raw.zscore(`${prefix}:${q}:delayed`, id);
          await raw.quit();
          if (delayed !== null) sawWaitingAfterFailure = true;
        }
        if (Date.now() > deadline) throw new Error('job never completed');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(sawWaitingAfterFailure, true);
      assert.equal((await jq.get(q, id))!.result, 'second ok');
    } finally {
      await jq.close();
    }
  });

  it('ping rejects quickly when Redis is unreachable', async () => {
    const jq = new BullMqJobQueue('redis://127.0.0.1:1', { pingTimeoutMs: 500 });
    try {
      const t = Date.now();
      await assert.rejects(jq.ping(), /^Error: redis/);
      assert.ok(Date.now() - t < 1000);
    } finally {
      await jq.close();
    }
  });
});
