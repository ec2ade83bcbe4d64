/**
 * Part of the StateStore contract (state-store.contract.ts): atomic scripts. The same script runs
 * as Lua on Redis and as its `local` twin in memory; both must answer alike and be atomic.
 */
import assert from 'node:assert/strict';
import type { AtomicScript, StateStore } from './state-store.port';

/** KEYS[1] a counter; reserves ARGV[1] units when the counter stays <= ARGV[2]: 1, else 0. */
export const CAPPED_RESERVE: AtomicScript = {
  name: 'contract-capped-reserve',
  lua: `local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if cur + n > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], n)
return 1`,
  local(ops, keys, args) {
    const cur = Number(ops.get(keys[0]) ?? '0');
    const n = Number(args[0]);
    if (cur + n > Number(args[1])) return 0;
    ops.incrBy(keys[0], n);
    return 1;
  },
};

/** Every ScriptOps command once; returns what they answered. */
const EVERY_OP: AtomicScript = {
  name: 'contract-every-op',
  lua: `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local got = redis.call('GET', KEYS[1])
local missing = redis.call('GET', KEYS[4])
local n = redis.call('INCRBY', KEYS[2], 5)
redis.call('HSET', KEYS[3], 'a', 'x')
local h = redis.call('HINCRBY', KEYS[3], 'b', 3)
local hv = redis.call('HGET', KEYS[3], 'a')
local hm = redis.call('HGET', KEYS[3], 'zz')
local all = redis.call('HGETALL', KEYS[3])
local e = redis.call('PEXPIRE', KEYS[2], 60000)
local e2 = redis.call('PEXPIRE', KEYS[4], 60000)
local t = redis.call('PTTL', KEYS[2])
local tm = redis.call('PTTL', KEYS[4])
local tn = redis.call('PTTL', KEYS[3])
local d = redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[3], 'gone', '1')
local hd = redis.call('HDEL', KEYS[3], 'gone') + redis.call('HDEL', KEYS[3], 'gone')
local big = 0
if t > 50000 then big = 1 end
local hmiss = 0
if hm == false then hmiss = 1 end
local miss = 0
if missing == false then miss = 1 end
return {got, miss, n, h, hv, hmiss, #all, e, e2, big, tm, tn, d, hd}`,
  local(ops, keys, args) {
    ops.set(keys[0], args[0], Number(args[1]));
    const got = ops.get(keys[0]);
    const missing = ops.get(keys[3]);
    const n = ops.incrBy(keys[1], 5);
    ops.hset(keys[2], 'a', 'x');
    const h = ops.hincrBy(keys[2], 'b', 3);
    const hv = ops.hget(keys[2], 'a');
    const hm = ops.hget(keys[2], 'zz');
    const all = ops.hgetall(keys[2]);
    const e = ops.expire(keys[1], 60_000) ? 1 : 0;
    const e2 = ops.expire(keys[3], 60_000) ? 1 : 0;
    const t = ops.ttlMs(keys[1]);
    const tm = ops.ttlMs(keys[3]);
    const tn = ops.ttlMs(keys[2]);
    const d = ops.del(keys[3]);
    ops.hset(keys[2], 'gone', '1');
    const hd = ops.hdel(keys[2], 'gone') + ops.hdel(keys[2], 'gone');
    return [got, missing === null ? 1 : 0, n, h, hv, hm === null ? 1 : 0, 2 * Object.keys(all).length, e, e2, t > 50_000 ? 1 : 0, tm, tn, d, hd];
  },
};

const NIL_OR_TEXT: AtomicScript = {
  name: 'contract-nil-or-text',
  lua: `local v = redis.call('GET', KEYS[1])
if v then return v end
return nil`,
  local: (ops, keys) => ops.get(keys[0]),
};

export function scriptContract(store: () => StateStore): void {
  describe('atomic scripts', () => {
    let s: StateStore;
    beforeEach(() => {
      s = store();
    });

    it('every script command answers as Redis does, on the store keys', async () => {
      const r = await s.runScript(EVERY_OP, ['str', 'ctr', 'hash', 'none'], ['héllo', 30_000]);
      assert.deepEqual(r, ['héllo', 1, 5, 3, 'x', 1, 4, 1, 0, 1, -2, -1, 0, 1]);
      assert.equal((await s.get('str'))!.toString(), 'héllo');
      const ttl = await s.ttlMs('str');
      assert.ok(ttl > 20_000 && ttl <= 30_000, `ttl ${ttl}`);
      assert.equal((await s.get('ctr'))!.toString(), '5');
      assert.deepEqual(Object.keys(await s.hgetall('hash')).sort(), ['a', 'b']);
      assert.equal(await s.exists('none'), false);
    });

    it('returns strings and null', async () => {
      assert.equal(await s.runScript(NIL_OR_TEXT, ['k'], []), null);
      await s.set('k', 'v');
      assert.equal(await s.runScript(NIL_OR_TEXT, ['k'], []), 'v');
    });

    it('is atomic: 300 concurrent capped reservations never pass the cap', async () => {
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => s.runScript(CAPPED_RESERVE, ['cap'], [1 + (i % 3), 200])));
      const won = results.reduce<number>((sum, r, i) => sum + (r === 1 ? 1 + (i % 3) : 0), 0);
      assert.equal(Number((await s.get('cap'))!.toString()), won);
      assert.ok(won <= 200 && won >= 198, `reserved ${won}`);
    });

    it('a failing command rejects the call', async () => {
      await s.set('cap', 'not a number');
      await assert.rejects(s.runScript(EVERY_OP, ['x', 'cap', 'h', 'n'], ['v', 1000]), /not an integer/);
    });
  });
}
