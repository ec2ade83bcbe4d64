import type { AtomicScript, ScriptOps, StateStore } from '@recsys/infra/state-store/state-store.port';

/**
 * Token bucket per API key, atomic in Redis (Lua) and in the in-memory store (its twin runs in one
 * tick). State: hash {t: tokens x 1000, ts: last refill ms}. ARGV: now ms, refill per second,
 * burst, cost. Reply: [allowed 0/1, tokens left x 1000, retry after ms].
 * Integers only (Redis truncates Lua numbers): tokens are kept in thousandths.
 */
export const TOKEN_BUCKET: AtomicScript = {
  name: 'gateway-token-bucket',
  lua: `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3]) * 1000
local cost = tonumber(ARGV[4]) * 1000
local t = tonumber(redis.call('HGET', KEYS[1], 't'))
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts'))
if t == nil or ts == nil then t = burst; ts = now end
if now > ts then t = math.min(burst, t + math.floor((now - ts) * rate)); ts = now end
local allowed = 0
local retry = 0
if t >= cost then t = t - cost; allowed = 1 else retry = math.ceil((cost - t) / rate) end
redis.call('HSET', KEYS[1], 't', t, 'ts', ts)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, t, retry}
`,
  local(ops: ScriptOps, keys: string[], args: string[]) {
    const [now, rate, burstTokens, costTokens] = args.map(Number);
    const burst = burstTokens * 1000;
    const cost = costTokens * 1000;
    const tRaw = ops.hget(keys[0], 't');
    const tsRaw = ops.hget(keys[0], 'ts');
    let t = tRaw === null ? burst : Number(tRaw);
    let ts = tsRaw === null ? now : Number(tsRaw);
    if (tRaw === null || tsRaw === null) {
      t = burst;
      ts = now;
    }
    if (now > ts) {
      t = Math.min(burst, t + Math.floor((now - ts) * rate));
      ts = now;
    }
    let allowed = 0;
    let retry = 0;
    if (t >= cost) {
      t -= cost;
      allowed = 1;
    } else retry = Math.ceil((cost - t) / rate);
    ops.hset(keys[0], 't', String(t));
    ops.hset(keys[0], 'ts', String(ts));
    ops.expire(keys[0], Math.ceil(burst / rate) + 1000);
    return [allowed, t, retry];
  },
};

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterMs: number;
}

/** `rate` is tokens per second; one request costs `cost` tokens (a batch of events costs 1 too). */
export class RateLimiter {
  constructor(
    private readonly state: StateStore,
    private readonly now: () => number = Date.now,
  ) {}

  async take(bucket: string, ratePerSec: number, burst: number, cost = 1): Promise<RateDecision> {
    // rate in thousandths of a token per ms = tokens per second.
    const r = (await this.state.runScript(TOKEN_BUCKET, [`gw:rl:{${bucket}}`], [this.now(), ratePerSec, burst, cost])) as number[];
    return { allowed: r[0] === 1, remaining: Math.floor(Number(r[1]) / 1000), retryAfterMs: Number(r[2]) };
  }
}
