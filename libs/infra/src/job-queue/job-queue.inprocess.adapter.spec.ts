import assert from 'node:assert/strict';
import { jobQueueContract } from './job-queue.contract';
import { InProcessJobQueue } from './job-queue.inprocess.adapter';

jobQueueContract('inprocess', async () => new InProcessJobQueue({ backoffDelayMs: 10 }));

describe('InProcessJobQueue specifics', () => {
  it('retries back off exponentially from backoffDelayMs', async () => {
    const jq = new InProcessJobQueue({ backoffDelayMs: 40 });
    const startedAt: number[] = [];
    try {
      await jq.process('q', async () => {
        startedAt.push(Date.now());
        throw new Error('x');
      });
      await jq.waitFor('q', await jq.add('q', {}, { attempts: 3 }), 5000);
      const gaps = [startedAt[1] - startedAt[0], startedAt[2] - startedAt[1]];
      assert.ok(gaps[0] >= 38 && gaps[0] < 75, `first gap ${gaps[0]}`);
      assert.ok(gaps[1] >= 78 && gaps[1] < 140, `second gap ${gaps[1]}`);
    } finally {
      await jq.close();
    }
  });

  it('keeps only the newest keepFinished finished jobs, and forgets their jobIds', async () => {
    const jq = new InProcessJobQueue({ keepFinished: 2 });
    try {
      await jq.process('q', async () => 'ok');
      const ids = [];
      for (const jobId of ['j-a', 'j-b', 'j-c']) ids.push(await jq.add('q', {}, { jobId }));
      for (const id of ids) await jq.waitFor('q', id, 5000);
      assert.equal(await jq.get('q', 'j-a'), null);
      assert.equal((await jq.get('q', 'j-c'))!.state, 'completed');
      assert.equal(await jq.add('q', { again: true }, { jobId: 'j-a' }), 'j-a');
      assert.deepEqual((await jq.waitFor('q', 'j-a', 5000)).data, { again: true });
    } finally {
      await jq.close();
    }
  });

  it('handlers see a JSON copy of the data, not the caller object', async () => {
    const jq = new InProcessJobQueue();
    try {
      const data = { when: new Date(0), list: [1] };
      let seen: unknown;
      await jq.process('q', async (job) => {
        seen = job.data;
      });
      await jq.waitFor('q', await jq.add('q', data), 5000);
      assert.deepEqual(seen, { when: '1970-01-01T00:00:00.000Z', list: [1] });
      assert.notEqual(seen, data);
    } finally {
      await jq.close();
    }
  });

  it('refuses work after close()', async () => {
    const jq = new InProcessJobQueue();
    await jq.close();
    await assert.rejects(jq.add('q', {}), /closed/);
    await assert.rejects(jq.ping(), /closed/);
  });
});
