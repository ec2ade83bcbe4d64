/**
 * The behaviour every StateStore adapter must show. Run by state-store.memory.adapter.spec.ts and
 * state-store.redis.adapter.int-spec.ts. Each test gets a fresh store from `make()`; for Redis that
 * is a fresh key prefix, and every key the test left behind is deleted afterwards.
 *
 * Batches and errors: exec() rejects when any command of the batch failed, with a message naming
 * the port method (e.g. `transaction command #1 incrBy(k) failed: WRONGTYPE ...`). Redis does not
 * roll back a MULTI whose command fails at run time, so transaction() promises isolation (nothing
 * interleaves) but not rollback, and both adapters keep the effects of the other commands.
 */
import assert from 'node:assert/strict';
import type { StateStore } from './state-store.port';
import { ALL_BYTES, batchAndScanContract, sorted } from './state-store.contract.batches';
import { scriptContract } from './state-store.contract.scripts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function stateStoreContract(name: string, make: () => Promise<StateStore>): void {
  describe(`StateStore contract: ${name}`, () => {
    let s: StateStore;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      const left = await s.scanKeys('*');
      if (left.length) await s.del(...left);
      await s.close();
    });

    describe('strings', () => {
      it('round-trips all 256 byte values through every reader', async () => {
        await s.set('bin', ALL_BYTES);
        assert.deepEqual(await s.get('bin'), ALL_BYTES);
        assert.deepEqual(await s.getMany(['bin', 'nope']), [ALL_BYTES, null]);
        await s.hset('h', { f: ALL_BYTES });
        assert.deepEqual(await s.hget('h', 'f'), ALL_BYTES);
        assert.deepEqual(await s.hgetall('h'), { f: ALL_BYTES });
        await s.listPushCapped('l', [ALL_BYTES, ALL_BYTES.subarray(128)], 10);
        assert.deepEqual(await s.listRange('l', 0, -1), [ALL_BYTES.subarray(128), ALL_BYTES]);
        const [viaBatch] = await s.pipeline().get('bin').exec();
        assert.deepEqual(viaBatch, ALL_BYTES);
      });

      it('stores strings as UTF-8 and returns Buffers', async () => {
        await s.set('u', 'héllo ✓ 漢字');
        const got = await s.get('u');
        assert.ok(Buffer.isBuffer(got));
        assert.deepEqual(got, Buffer.from('héllo ✓ 漢字', 'utf8'));
      });

      it('keeps what was written even if the caller mutates its Buffer afterwards', async () => {
        const b = Buffer.from('abc');
        await s.set('m', b);
        b[0] = 0x7a;
        assert.equal((await s.get('m'))!.toString(), 'abc');
      });

      it('get/getMany answer null for missing keys; getMany of nothing is empty', async () => {
        assert.equal(await s.get('missing'), null);
        assert.deepEqual(await s.getMany([]), []);
        await s.set('a', '1');
        await s.hset('h', { f: 'x' });
        // MGET answers null for a key of another type rather than failing.
        assert.deepEqual(
          (await s.getMany(['a', 'missing', 'h'])).map((b) => b?.toString() ?? null),
          ['1', null, null],
        );
      });

      it('set ifAbsent only writes a missing key', async () => {
        assert.equal(await s.set('nx', 'first', { ifAbsent: true }), true);
        assert.equal(await s.set('nx', 'second', { ifAbsent: true }), false);
        assert.equal((await s.get('nx'))!.toString(), 'first');
        assert.equal(await s.set('nx', 'third'), true);
        assert.equal((await s.get('nx'))!.toString(), 'third');
        await s.hset('h', { f: '1' });
        assert.equal(await s.set('h', 'x', { ifAbsent: true }), false);
      });

      it('set over a key of another type replaces it', async () => {
        await s.hset('h', { f: '1' });
        await s.set('h', 'plain');
        assert.equal((await s.get('h'))!.toString(), 'plain');
      });

      it('get on a hash key fails with WRONGTYPE', async () => {
        await s.hset('h', { f: '1' });
        await assert.rejects(s.get('h'), /WRONGTYPE/);
      });

      it('setMany writes every key like set: bytes as given, other types replaced, TTLs dropped; none is a no-op', async () => {
        await s.hset('h', { f: '1' });
        await s.set('t', 'old', { ttlMs: 60_000 });
        await s.setMany([
          ['bin', ALL_BYTES],
          ['u', 'héllo'],
          ['h', 'plain'],
          ['t', 'new'],
        ]);
        assert.deepEqual(await s.getMany(['bin', 'u', 'h', 't']), [ALL_BYTES, Buffer.from('héllo'), Buffer.from('plain'), Buffer.from('new')]);
        assert.equal(await s.ttlMs('t'), -1);
        await s.setMany([]);
        assert.deepEqual(sorted(await s.scanKeys('*')), ['bin', 'h', 't', 'u']);
      });

      it('del counts the keys that existed; exists tells', async () => {
        await s.set('a', '1');
        await s.hset('b', { f: '1' });
        assert.equal(await s.exists('a'), true);
        assert.equal(await s.del('a', 'b', 'c'), 2);
        assert.equal(await s.del(), 0);
        assert.equal(await s.exists('a'), false);
        assert.equal(await s.exists('b'), false);
      });
    });

    describe('TTL', () => {
      it('a key set with ttlMs expires', async () => {
        await s.set('t', 'v', { ttlMs: 50 });
        const ttl = await s.ttlMs('t');
        assert.ok(ttl > 0 && ttl <= 50, `ttl ${ttl}`);
        await sleep(120);
        assert.equal(await s.get('t'), null);
        assert.equal(await s.exists('t'), false);
        assert.equal(await s.ttlMs('t'), -2);
        assert.deepEqual(await s.scanKeys('t'), []);
        // An expired key is absent for ifAbsent too.
        assert.equal(await s.set('t', 'again', { ttlMs: 5000, ifAbsent: true }), true);
      });

      it('ttlMs is -1 without TTL and -2 for a missing key', async () => {
        assert.equal(await s.ttlMs('none'), -2);
        await s.set('k', 'v');
        assert.equal(await s.ttlMs('k'), -1);
        await s.hset('h', { f: '1' });
        assert.equal(await s.ttlMs('h'), -1);
      });

      it('a plain set drops an earlier TTL; incrBy and hset keep it', async () => {
        await s.set('k', 'v', { ttlMs: 10_000 });
        await s.set('k', 'w');
        assert.equal(await s.ttlMs('k'), -1);
        await s.set('n', '1', { ttlMs: 10_000 });
        await s.incrBy('n', 1);
        assert.ok((await s.ttlMs('n')) > 0);
        await s.hset('h', { a: '1' });
        await s.expire('h', 10_000);
        await s.hset('h', { b: '2' });
        assert.ok((await s.ttlMs('h')) > 0);
      });

      it('expire sets a TTL on an existing key of any type, not on a missing one', async () => {
        assert.equal(await s.expire('missing', 1000), false);
        await s.listPushCapped('l', ['a'], 3);
        assert.equal(await s.expire('l', 50), true);
        const ttl = await s.ttlMs('l');
        assert.ok(ttl > 0 && ttl <= 50, `ttl ${ttl}`);
        await sleep(120);
        assert.equal(await s.listLength('l'), 0);
        assert.equal(await s.exists('l'), false);
      });

      it('expire with 0 deletes at once', async () => {
        await s.set('k', 'v');
        assert.equal(await s.expire('k', 0), true);
        assert.equal(await s.exists('k'), false);
      });

      it('rejects a TTL that is not a positive integer', async () => {
        await assert.rejects(s.set('k', 'v', { ttlMs: 0 }), RangeError);
        await assert.rejects(s.set('k', 'v', { ttlMs: 1.5 }), RangeError);
        assert.equal(await s.exists('k'), false);
      });
    });

    describe('counters', () => {
      it('incrBy starts from 0, goes both ways', async () => {
        assert.equal(await s.incrBy('c', 5), 5);
        assert.equal(await s.incrBy('c', -7), -2);
        assert.equal((await s.get('c'))!.toString(), '-2');
        await s.set('c2', '40');
        assert.equal(await s.incrBy('c2', 2), 42);
      });

      it('100 concurrent incrBy give the exact total', async () => {
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.incrBy('cc', i + 1)));
        assert.equal(await s.incrBy('cc', 0), 5050);
        // Every intermediate value is distinct: no two increments saw the same base.
        assert.equal(new Set(results).size, 100);
      });

      it('incrBy fails on a non-integer value, on a hash, and for a fractional step', async () => {
        await s.set('txt', 'abc');
        await assert.rejects(s.incrBy('txt', 1), /not an integer/);
        await s.set('f', '1.5');
        await assert.rejects(s.incrBy('f', 1), /not an integer/);
        await s.hset('h', { f: '1' });
        await assert.rejects(s.incrBy('h', 1), /WRONGTYPE/);
        await assert.rejects(s.incrBy('c', 0.5), RangeError);
        assert.equal((await s.get('txt'))!.toString(), 'abc');
      });
    });

    describe('hashes', () => {
      it('hset/hget/hgetall/hdel', async () => {
        await s.hset('h', { a: '1', b: Buffer.from([0, 255]) });
        await s.hset('h', { b: 'two', c: '3' });
        assert.equal((await s.hget('h', 'b'))!.toString(), 'two');
        assert.equal(await s.hget('h', 'zzz'), null);
        assert.equal(await s.hget('missing', 'a'), null);
        const all = await s.hgetall('h');
        assert.deepEqual(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.toString()])), { a: '1', b: 'two', c: '3' });
        assert.ok(Object.values(all).every((v) => Buffer.isBuffer(v)));
        assert.equal(await s.hdel('h', ['a', 'zzz']), 1);
        assert.deepEqual(Object.keys(await s.hgetall('h')).sort(), ['b', 'c']);
        assert.deepEqual(await s.hgetall('missing'), {});
      });

      it('hsetMany sets the fields of every hash, binary-safe; entries without fields change nothing', async () => {
        await s.hset('a', { keep: '1', over: 'old' });
        const many = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`f${i}`, String(i)]));
        await s.hsetMany([
          ['a', { over: 'new', bin: ALL_BYTES }],
          ['empty', {}],
          ['b', many],
          ['c', { x: 'y' }],
        ]);
        assert.deepEqual(await s.hgetall('a'), { keep: Buffer.from('1'), over: Buffer.from('new'), bin: ALL_BYTES });
        assert.equal(Object.keys(await s.hgetall('b')).length, 1200);
        assert.deepEqual(await s.hget('b', 'f1199'), Buffer.from('1199'));
        assert.deepEqual(await s.hgetall('c'), { x: Buffer.from('y') });
        assert.equal(await s.exists('empty'), false);
        await s.hsetMany([]);
        await s.hsetMany([['none', {}]]);
        assert.deepEqual(sorted(await s.scanKeys('*')), ['a', 'b', 'c']);
      });

      it('hsetMany on a string key fails with WRONGTYPE', async () => {
        await s.set('str', 'v');
        await assert.rejects(s.hsetMany([['str', { f: '1' }]]), /WRONGTYPE/);
      });

      it('a hash whose last field is deleted disappears; hset of nothing is a no-op', async () => {
        await s.hset('h', { a: '1' });
        assert.equal(await s.hdel('h', ['a']), 1);
        assert.equal(await s.exists('h'), false);
        await s.hset('h2', {});
        assert.equal(await s.exists('h2'), false);
        assert.equal(await s.hdel('h2', []), 0);
      });

      it('hincrBy counts per field and rejects non-integer fields', async () => {
        assert.equal(await s.hincrBy('h', 'n', 3), 3);
        assert.equal(await s.hincrBy('h', 'n', -1), 2);
        assert.equal(await s.hincrBy('h', 'm', 10), 10);
        await s.hset('h', { s: 'abc' });
        await assert.rejects(s.hincrBy('h', 's', 1), /not an integer/);
        assert.equal((await s.hget('h', 's'))!.toString(), 'abc');
        const totals = await Promise.all(Array.from({ length: 50 }, () => s.hincrBy('h', 'par', 2)));
        assert.equal(Math.max(...totals), 100);
      });

      it('hash commands on a string key fail with WRONGTYPE', async () => {
        await s.set('str', 'v');
        await assert.rejects(s.hset('str', { a: '1' }), /WRONGTYPE/);
        await assert.rejects(s.hget('str', 'a'), /WRONGTYPE/);
        await assert.rejects(s.hincrBy('str', 'a', 1), /WRONGTYPE/);
      });
    });

    describe('capped lists', () => {
      it('newest first, trimmed to cap', async () => {
        assert.equal(await s.listPushCapped('l', ['a', 'b', 'c'], 5), 3);
        assert.deepEqual((await s.listRange('l', 0, -1)).map(String), ['c', 'b', 'a']);
        assert.equal(await s.listPushCapped('l', ['d', 'e', 'f'], 5), 5);
        assert.deepEqual((await s.listRange('l', 0, -1)).map(String), ['f', 'e', 'd', 'c', 'b']);
        assert.equal(await s.listLength('l'), 5);
        assert.equal(await s.listPushCapped('l', ['g'], 2), 2);
        assert.deepEqual((await s.listRange('l', 0, -1)).map(String), ['g', 'f']);
      });

      it('listRange uses LRANGE index rules', async () => {
        await s.listPushCapped('l', ['5', '4', '3', '2', '1', '0'], 100); // 0 is newest
        const r = async (a: number, b: number) => (await s.listRange('l', a, b)).map(String).join('');
        assert.equal(await r(0, 0), '0');
        assert.equal(await r(1, 3), '123');
        assert.equal(await r(-2, -1), '45');
        assert.equal(await r(-100, 1), '01');
        assert.equal(await r(4, 100), '45');
        assert.equal(await r(3, 1), '');
        assert.equal(await r(10, 20), '');
        assert.deepEqual(await s.listRange('missing', 0, -1), []);
        assert.equal(await s.listLength('missing'), 0);
      });

      it('the cap holds under 50 concurrent pushes', async () => {
        const lens = await Promise.all(Array.from({ length: 50 }, (_, i) => s.listPushCapped('l', [String(i)], 10)));
        assert.ok(lens.every((n) => n >= 1 && n <= 10));
        assert.equal(await s.listLength('l'), 10);
      });

      it('rejects cap < 1 and list commands on other types', async () => {
        await assert.rejects(s.listPushCapped('l', ['a'], 0), RangeError);
        await s.set('str', 'v');
        await assert.rejects(s.listPushCapped('str', ['a'], 3), /WRONGTYPE/);
        await assert.rejects(s.listRange('str', 0, -1), /WRONGTYPE/);
      });
    });

    batchAndScanContract(() => s);
    scriptContract(() => s);

    it('ping resolves', async () => {
      await s.ping();
    });
  });
}
