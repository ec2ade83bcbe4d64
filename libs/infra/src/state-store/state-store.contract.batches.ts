/**
 * Part of the StateStore contract (state-store.contract.ts): pipelines and transactions, and
 * scanKeys. `store()` is the fresh store of the running test.
 */
import assert from 'node:assert/strict';
import type { StateStore } from './state-store.port';

export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
export const sorted = (xs: string[]) => [...xs].sort();

export function batchAndScanContract(store: () => StateStore): void {
  describe('batches', () => {
    let s: StateStore;
    beforeEach(() => {
      s = store();
    });
    for (const kind of ['pipeline', 'transaction'] as const) {
      it(`${kind}: results come back in call order with the port's types`, async () => {
        await s.set('x', 'old');
        const b = kind === 'pipeline' ? s.pipeline() : s.transaction();
        const results = await b
          .get('missing')
          .set('k', ALL_BYTES)
          .set('x', 'new', { ifAbsent: true })
          .incrBy('n', 5)
          .get('k')
          .hset('h', { a: '1' })
          .hincrBy('h', 'a', 2)
          .hdel('h', ['a', 'zz'])
          .listPushCapped('l', ['1', '2', '3'], 2)
          .expire('k', 10_000)
          .del('x')
          .setMany([
            ['m1', 'a'],
            ['m2', ALL_BYTES],
          ])
          .setMany([])
          .get('m2')
          .del('m1', 'n', 'missing')
          .del()
          .hsetMany([
            ['h', { b: '2' }],
            ['h2', { c: ALL_BYTES }],
          ])
          .hsetMany([])
          .exec();
        assert.deepEqual(results, [null, true, false, 5, ALL_BYTES, undefined, 3, 1, 2, true, 1, undefined, undefined, ALL_BYTES, 2, 0, undefined, undefined]);
        assert.deepEqual([await s.hgetall('h'), await s.hgetall('h2')], [{ b: Buffer.from('2') }, { c: ALL_BYTES }]);
        assert.ok((await s.ttlMs('k')) > 0);
        assert.deepEqual((await s.listRange('l', 0, -1)).map(String), ['3', '2']);
        assert.deepEqual(await s.getMany(['m1', 'm2', 'n']), [null, ALL_BYTES, null]);
      });

      it(`${kind}: a failing command makes exec reject naming it; the others still apply`, async () => {
        await s.hset('h', { f: 'x' });
        const b = kind === 'pipeline' ? s.pipeline() : s.transaction();
        b.set('before', '1').incrBy('h', 1).hincrBy('h', 'f', 1).incrBy('after', 2);
        await assert.rejects(b.exec(), (err: Error) => {
          assert.match(err.message, new RegExp(`^${kind} command #1 incrBy\\(h\\)`));
          assert.match(err.message, /WRONGTYPE/);
          return true;
        });
        // No rollback (Redis MULTI semantics): the good commands took effect.
        assert.equal((await s.get('before'))!.toString(), '1');
        assert.equal((await s.get('after'))!.toString(), '2');
        assert.equal((await s.hget('h', 'f'))!.toString(), 'x');
      });

      it(`${kind}: exec twice is refused; an empty batch yields []`, async () => {
        const b = kind === 'pipeline' ? s.pipeline() : s.transaction();
        b.incrBy('n', 1);
        await b.exec();
        await assert.rejects(b.exec(), /already executed/);
        assert.deepEqual(await (kind === 'pipeline' ? s.pipeline() : s.transaction()).exec(), []);
        assert.equal((await s.get('n'))!.toString(), '1');
      });
    }

    it('transaction: concurrent readers never see half of one', async () => {
      const writers: Promise<unknown>[] = [];
      const readers: Promise<(Buffer | null)[]>[] = [];
      for (let i = 0; i < 40; i++) {
        writers.push(s.transaction().incrBy('a', 1).incrBy('b', 1).exec());
        readers.push(s.getMany(['a', 'b']));
      }
      const seen = await Promise.all(readers);
      await Promise.all(writers);
      for (const [a, b] of seen) assert.equal(a?.toString() ?? '0', b?.toString() ?? '0');
      assert.deepEqual((await s.getMany(['a', 'b'])).map(String), ['40', '40']);
    });

    it('invalid arguments throw when the command is added', async () => {
      assert.throws(() => s.pipeline().set('k', 'v', { ttlMs: -5 }), RangeError);
      assert.throws(() => s.transaction().listPushCapped('l', ['a'], 0), RangeError);
      assert.throws(() => s.pipeline().incrBy('n', 1.5), RangeError);
    });
  });

  describe('scanKeys', () => {
    let s: StateStore;
    beforeEach(() => {
      s = store();
    });
    it('matches glob patterns over every key type, without duplicates', async () => {
      await s.set('user:1', 'a');
      await s.hset('user:2', { f: '1' });
      await s.listPushCapped('user:10', ['x'], 3);
      await s.set('item:1', 'b');
      assert.deepEqual(sorted(await s.scanKeys('user:*')), ['user:1', 'user:10', 'user:2']);
      assert.deepEqual(sorted(await s.scanKeys('user:?')), ['user:1', 'user:2']);
      assert.deepEqual(sorted(await s.scanKeys('*:1')), ['item:1', 'user:1']);
      assert.deepEqual(await s.scanKeys('nothing*'), []);
      assert.deepEqual(sorted(await s.scanKeys('*')), ['item:1', 'user:1', 'user:10', 'user:2']);
    });

    it('walks past one SCAN page (2500 keys)', async () => {
      const p = s.pipeline();
      for (let i = 0; i < 2500; i++) p.set(`bulk:${i}`, '1');
      await p.exec();
      const keys = await s.scanKeys('bulk:*');
      assert.equal(keys.length, 2500);
      assert.equal(new Set(keys).size, 2500);
    });
  });
}
