import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { stateStoreContract } from './state-store.contract';
import { CAPPED_RESERVE } from './state-store.contract.scripts';
import { RedisStateStore } from './state-store.redis.adapter';

const { redisUrl } = realInfra();

// A fresh key prefix per test: the contract deletes what each test leaves behind.
stateStoreContract('redis', async () => new RedisStateStore(redisUrl, { keyPrefix: `${uniqueName('ss')}:` }));

describe('RedisStateStore specifics', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(redisUrl);
  });
  afterAll(async () => {
    await raw.quit();
  });

  it('prefixes every key and isolates stores with different prefixes', async () => {
    const p1 = `${uniqueName('iso')}:`;
    const p2 = `${uniqueName('iso')}:`;
    const a = new RedisStateStore(redisUrl, { keyPrefix: p1 });
    const b = new RedisStateStore(redisUrl, { keyPrefix: p2 });
    try {
      await a.set('k', 'from-a');
      await a.listPushCapped('l', ['x'], 2);
      assert.equal(await b.get('k'), null);
      assert.deepEqual(await b.scanKeys('*'), []);
      assert.deepEqual((await a.scanKeys('*')).sort(), ['k', 'l']);
      assert.equal(await raw.get(`${p1}k`), 'from-a');
      assert.equal(await raw.llen(`${p1}l`), 1);
    } finally {
      await a.del('k', 'l');
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a prefix with glob characters is matched literally by scanKeys', async () => {
    const prefix = `${uniqueName('glob')}[*]?:`;
    const s = new RedisStateStore(redisUrl, { keyPrefix: prefix });
    const decoy = prefix.replace('[*]?', 'X*Y');
    try {
      await s.set('k', '1');
      await raw.set(`${decoy}k`, '1');
      assert.deepEqual(await s.scanKeys('*'), ['k']);
    } finally {
      await s.del('k');
      await raw.del(`${decoy}k`);
      await s.close();
    }
  });

  it('hsetMany keeps working after SCRIPT FLUSH, inside a transaction too (its script is sent with EVAL)', async () => {
    const s = new RedisStateStore(redisUrl, { keyPrefix: `${uniqueName('hsm')}:` });
    try {
      await s
        .transaction()
        .hsetMany([['h', { a: '1' }]])
        .exec();
      await raw.script('FLUSH');
      await s
        .transaction()
        .hsetMany([['h', { b: '2' }]])
        .set('k', 'v')
        .exec();
      await s
        .pipeline()
        .hsetMany([['h', { c: '3' }]])
        .exec();
      assert.deepEqual(Object.keys(await s.hgetall('h')).sort(), ['a', 'b', 'c']);
    } finally {
      await s.del('h', 'k');
      await s.close();
    }
  });

  it('runScript keeps working after SCRIPT FLUSH (EVAL after a NOSCRIPT)', async () => {
    const s = new RedisStateStore(redisUrl, { keyPrefix: `${uniqueName('scr')}:` });
    try {
      assert.equal(await s.runScript(CAPPED_RESERVE, ['c'], [2, 3]), 1);
      await raw.script('FLUSH');
      assert.equal(await s.runScript(CAPPED_RESERVE, ['c'], [2, 3]), 0);
      assert.equal(await s.runScript(CAPPED_RESERVE, ['c'], [1, 3]), 1);
      assert.equal((await s.get('c'))!.toString(), '3');
    } finally {
      await s.del('c');
      await s.close();
    }
  });

  it('uses a client it is given and leaves it open on close()', async () => {
    const client = new Redis(redisUrl);
    const s = new RedisStateStore(client, { keyPrefix: `${uniqueName('own')}:` });
    await s.set('k', 'v');
    assert.equal((await s.get('k'))!.toString(), 'v');
    await s.del('k');
    await s.close();
    assert.equal(await client.ping(), 'PONG');
    await client.quit();
  });

  it('ping and commands reject quickly when Redis is unreachable (health must not hang)', async () => {
    // Port 1 on loopback: connection refused.
    const s = new RedisStateStore('redis://127.0.0.1:1', { pingTimeoutMs: 500 });
    try {
      let t = Date.now();
      await assert.rejects(s.ping(), /^Error: redis (unavailable|ping timed out|ping failed)/);
      const pingMs = Date.now() - t;
      assert.ok(pingMs < 1000, `ping took ${pingMs} ms`);
      // Once ioredis knows the connection is down, ping answers without waiting at all.
      t = Date.now();
      await assert.rejects(s.ping(), /^Error: redis unavailable \(connection reconnecting\): .*ECONNREFUSED/);
      assert.ok(Date.now() - t < 50);
      t = Date.now();
      await assert.rejects(s.get('k'));
      const getMs = Date.now() - t;
      assert.ok(getMs < 3000, `get took ${getMs} ms`);
      console.log(`# unreachable redis: ping rejected in ${pingMs} ms, get rejected in ${getMs} ms`);
    } finally {
      await s.close();
    }
  });
});
