import assert from 'node:assert/strict';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { RateLimiter } from './rate-limit';

describe('RateLimiter (token bucket, in-memory twin of the Lua script)', () => {
  it('spends the burst, refuses with a retry time, refills at the rate, never above the burst', async () => {
    let now = 1_000_000;
    const rl = new RateLimiter(new MemoryStateStore(), () => now);
    const take = () => rl.take('k1', 2, 3); // 2 tokens/s, burst 3
    assert.deepEqual((await take()).allowed, true);
    assert.deepEqual((await take()).allowed, true);
    const third = await take();
    assert.deepEqual([third.allowed, third.remaining], [true, 0]);
    const refused = await take();
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 500); // one token at 2/s
    now += 499;
    assert.equal((await take()).allowed, false);
    now += 1;
    assert.equal((await take()).allowed, true);
    now += 60_000; // a long pause refills to the burst only
    const a = await take();
    assert.equal(a.remaining, 2);
    // Buckets are per key.
    assert.equal((await rl.take('k2', 2, 1)).allowed, true);
    assert.equal((await rl.take('k2', 2, 1)).allowed, false);
  });
});
