/**
 * The behaviour every JobQueue adapter must show. Run by job-queue.inprocess.adapter.spec.ts and
 * job-queue.bullmq.adapter.int-spec.ts. `make()` must return a fresh queue whose retry backoff is
 * short (tens of ms) so the retry tests stay fast; every test uses its own queue names.
 */
import assert from 'node:assert/strict';
import { uniqueName } from '@recsys/testing/infra';
import type { JobContext, JobQueue, JobStatus } from './job-queue.port';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise the test resolves by hand, to hold a job in 'active'. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

export function jobQueueContract(name: string, make: () => Promise<JobQueue>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let jq: JobQueue;
    let q: string;
    beforeEach(async () => {
      jq = await make();
      q = uniqueName('jq');
    });
    afterEach(async () => {
      await jq.close();
    });

    it('runs a job and reports completion with its result', async () => {
      const seen: JobContext<{ a: number; b: number }>[] = [];
      await jq.process<{ a: number; b: number }>(q, async (job) => {
        seen.push(job);
        return { sum: job.data.a + job.data.b };
      });
      const before = Date.now();
      const id = await jq.add(q, { a: 2, b: 3 });
      assert.equal(typeof id, 'string');
      const done = await jq.waitFor(q, id, 5000);
      assert.equal(done.state, 'completed');
      assert.deepEqual(done.result, { sum: 5 });
      assert.deepEqual(done.data, { a: 2, b: 3 });
      assert.equal(done.id, id);
      assert.equal(done.queue, q);
      assert.equal(done.error, undefined);
      assert.ok(done.createdAt >= before - 1000 && done.createdAt <= Date.now());
      assert.ok(done.finishedAt! >= done.createdAt);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].id, id);
      assert.equal(seen[0].name, q);
      assert.equal(seen[0].attempt, 1);
      assert.deepEqual(await jq.get(q, id), done);
    });

    it('a job added before any worker waits, then runs', async () => {
      const id = await jq.add(q, { n: 1 });
      await sleep(50);
      assert.equal((await jq.get(q, id))!.state, 'waiting');
      await jq.process(q, async (job) => (job.data as { n: number }).n * 10);
      const done = await jq.waitFor(q, id, 5000);
      assert.equal(done.state, 'completed');
      assert.equal(done.result, 10);
    });

    it('a handler returning nothing completes with result null (as BullMQ stores it)', async () => {
      await jq.process(q, async () => undefined);
      const done = await jq.waitFor(q, await jq.add(q, {}), 5000);
      assert.equal(done.state, 'completed');
      assert.equal(done.result, null);
    });

    it('progress updates are visible through get() while the job is active', async () => {
      const hold = gate();
      await jq.process(q, async (job) => {
        await job.updateProgress(40);
        await hold.wait;
        await job.updateProgress(100);
        return 'ok';
      });
      const id = await jq.add(q, null);
      let mid: JobStatus | null = null;
      await until('progress 40 while active', async () => {
        mid = await jq.get(q, id);
        return mid?.state === 'active' && mid.progress === 40;
      });
      assert.equal(mid!.finishedAt, undefined);
      assert.equal(mid!.result, undefined);
      hold.open();
      const done = await jq.waitFor(q, id, 5000);
      assert.equal(done.state, 'completed');
      assert.equal(done.progress, 100);
    });

    it('a throwing job is retried up to `attempts`, then fails with the error message', async () => {
      const attempts: number[] = [];
      await jq.process(q, async (job) => {
        attempts.push(job.attempt);
        throw new Error(`boom on attempt ${job.attempt}`);
      });
      const id = await jq.add(q, { x: 1 }, { attempts: 3 });
      const done = await jq.waitFor(q, id, 10_000);
      assert.equal(done.state, 'failed');
      assert.equal(done.error, 'boom on attempt 3');
      assert.equal(done.result, undefined);
      assert.ok(done.finishedAt! >= done.createdAt);
      assert.deepEqual(attempts, [1, 2, 3]);
    });

    it('a job that fails and then succeeds on retry completes', async () => {
      await jq.process(q, async (job) => {
        if (job.attempt < 2) throw new Error('transient');
        return `ok after ${job.attempt}`;
      });
      const done = await jq.waitFor(q, await jq.add(q, {}, { attempts: 5 }), 10_000);
      assert.equal(done.state, 'completed');
      assert.equal(done.result, 'ok after 2');
      assert.equal(done.error, undefined);
    });

    it('without attempts a job runs once', async () => {
      let runs = 0;
      await jq.process(q, async () => {
        runs++;
        throw new Error('once');
      });
      const done = await jq.waitFor(q, await jq.add(q, {}), 5000);
      assert.equal(done.state, 'failed');
      assert.equal(done.error, 'once');
      await sleep(100);
      assert.equal(runs, 1);
    });

    it('the same jobId enqueues once, also after the job finished', async () => {
      const ran: unknown[] = [];
      await jq.process(q, async (job) => {
        ran.push(job.data);
        return 'done';
      });
      const [a, b] = await Promise.all([jq.add(q, { v: 'first' }, { jobId: 'rebuild-idx' }), jq.add(q, { v: 'second' }, { jobId: 'rebuild-idx' })]);
      assert.equal(a, 'rebuild-idx');
      assert.equal(b, 'rebuild-idx');
      const done = await jq.waitFor(q, a, 5000);
      assert.equal(done.state, 'completed');
      assert.equal(await jq.add(q, { v: 'third' }, { jobId: 'rebuild-idx' }), 'rebuild-idx');
      await sleep(150);
      assert.equal(ran.length, 1);
      assert.deepEqual((await jq.get(q, a))!.data, ran[0]);
    });

    it('rejects jobIds and queue names BullMQ cannot take (integers, ":") and bad attempts', async () => {
      await assert.rejects(jq.add(q, {}, { jobId: '42' }), /integer/);
      await assert.rejects(jq.add(q, {}, { jobId: 'a:b' }), /':'/);
      await assert.rejects(jq.add(q, {}, { attempts: 0 }), RangeError);
      await assert.rejects(jq.add(`${q}:x`, {}), /queue name/);
      await assert.rejects(
        jq.process(`${q}:x`, async () => 1),
        /queue name/,
      );
    });

    it('concurrency caps the jobs running at once', async () => {
      let running = 0;
      let peak = 0;
      await jq.process(
        q,
        async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(80);
          running--;
        },
        { concurrency: 2 },
      );
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await jq.add(q, { i }));
      const done = await Promise.all(ids.map((id) => jq.waitFor(q, id, 10_000)));
      assert.ok(done.every((d) => d.state === 'completed'));
      assert.equal(peak, 2);
    });

    it('with concurrency 1 jobs run one at a time in FIFO order', async () => {
      const order: number[] = [];
      let running = 0;
      let peak = 0;
      await jq.process(q, async (job) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(5);
        order.push((job.data as { i: number }).i);
        running--;
      });
      const ids = [];
      for (let i = 0; i < 8; i++) ids.push(await jq.add(q, { i }));
      await Promise.all(ids.map((id) => jq.waitFor(q, id, 10_000)));
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.equal(peak, 1);
    });

    it('queues are independent', async () => {
      const q2 = `${q}-other`;
      await jq.process(q, async () => 'from q');
      await jq.process(q2, async () => 'from q2');
      const [a, b] = await Promise.all([jq.add(q, {}), jq.add(q2, {})]);
      assert.equal((await jq.waitFor(q, a, 5000)).result, 'from q');
      assert.equal((await jq.waitFor(q2, b, 5000)).result, 'from q2');
    });

    it('waitFor rejects after its timeout; get() of an unknown job is null', async () => {
      const hold = gate();
      await jq.process(q, async () => hold.wait);
      const id = await jq.add(q, {});
      const t = Date.now();
      await assert.rejects(jq.waitFor(q, id, 150), /timed out after 150 ms/);
      const took = Date.now() - t;
      assert.ok(took >= 140 && took < 1000, `waitFor took ${took} ms`);
      await assert.rejects(jq.waitFor(q, 'no-such-job', 100), /timed out.*not found/);
      assert.equal(await jq.get(q, 'no-such-job'), null);
      hold.open();
      assert.equal((await jq.waitFor(q, id, 5000)).state, 'completed');
    });

    it('a second worker for the same queue is refused', async () => {
      await jq.process(q, async () => 1);
      await assert.rejects(
        jq.process(q, async () => 2),
        /already has a worker/,
      );
    });

    it('stopProcessing leaves new jobs waiting until a worker is registered again', async () => {
      await jq.process(q, async () => 'first');
      await jq.stopProcessing(q);
      const id = await jq.add(q, { n: 1 });
      await sleep(200);
      assert.equal((await jq.get(q, id))?.state, 'waiting');
      await jq.process(q, async () => 'second');
      const done = await jq.waitFor(q, id, 5000);
      assert.equal(done.state, 'completed');
      assert.equal(done.result, 'second');
    });

    it('close() waits for running jobs to finish', async () => {
      let finished = false;
      await jq.process(q, async () => {
        await sleep(150);
        finished = true;
      });
      const id = await jq.add(q, {});
      await until('job active', async () => (await jq.get(q, id))?.state === 'active');
      await jq.close();
      assert.equal(finished, true);
    });

    it('ping resolves', async () => {
      await jq.ping();
    });
  });
}
