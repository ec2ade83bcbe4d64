/**
 * Budgets, frequency caps and delivery counters, enforced atomically in the state store (a Lua
 * script on Redis, its synchronous twin in memory): concurrent fills can never overspend.
 *
 * Money is in integer micros. Every key of a campaign carries the hash tag `{adc:<id>}`, so one
 * script touches one Redis Cluster slot.
 * - day hash  `ads:{adc:ID}:d:<day>`: spent, reserved, imps, clicks, convs, s:HH / i:HH / c:HH / v:HH
 *   (hourly spend, impressions, clicks, conversions), `<day>` the campaign-local date: a new day starts from nothing.
 * - total hash `ads:{adc:ID}:t`: spent, reserved (lifetime budget).
 * - reservations `ads:{adc:ID}:r`: token -> "amount|expiresAtMs|day".
 * - frequency `ads:{adc:ID}:f:<day>`: userId -> reservations today.
 * - seen events `ads:{adc:ID}:e:<day>`: eventId -> 1 (billing idempotency, applied and marked atomically).
 *
 * reserve (on an auction win): refuses when the user's cap is reached, or when spent + reserved +
 *   amount would pass the daily or total budget (it first releases expired reservations then).
 * settle (on a billed event): moves the reservation into spent, once; an event id seen before
 *   changes nothing; a billing event whose reservation has expired is not billed (counted as late).
 * release (on expiry, or when a fill is abandoned): drops the reservation.
 */
import type { AtomicScript, ScriptOps, StateStore } from '@recsys/infra/state-store/state-store.port';

/** Micros reserved and billed for a win: per click for CPC, per impression (CPM / 1000) for CPM; at least 1. */
export function amountMicros(w: { bidType: 'cpc' | 'cpm'; price: number }): number {
  return Math.max(1, Math.round(w.bidType === 'cpm' ? (w.price * 1e6) / 1000 : w.price * 1e6));
}

const DAY_TTL_MS = 3 * 24 * 3600 * 1000;

export const budgetKeys = {
  tag: (campaignId: string) => `{adc:${campaignId}}`,
  day: (c: string, day: string) => `ads:{adc:${c}}:d:${day}`,
  total: (c: string) => `ads:{adc:${c}}:t`,
  reservations: (c: string) => `ads:{adc:${c}}:r`,
  freq: (c: string, day: string) => `ads:{adc:${c}}:f:${day}`,
  seen: (c: string, day: string) => `ads:{adc:${c}}:e:${day}`,
};

/** Lua: releases expired reservations (KEYS[1] today, KEYS[2] total, KEYS[3] reservations; now, today). */
const LUA_PURGE = `
local function purge(now, today)
  local all = redis.call('HGETALL', KEYS[3])
  local n = 0
  for i = 1, #all, 2 do
    local amt, exp, day = string.match(all[i + 1], '^(%d+)|(%d+)|(.*)$')
    if tonumber(exp) <= now then
      redis.call('HDEL', KEYS[3], all[i])
      redis.call('HINCRBY', KEYS[2], 'reserved', -tonumber(amt))
      if day == today then redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(amt)) end
      n = n + 1
    end
  end
  return n
end
local function used(k)
  return tonumber(redis.call('HGET', k, 'spent') or '0') + tonumber(redis.call('HGET', k, 'reserved') or '0')
end
`;

function purgeLocal(ops: ScriptOps, keys: string[], now: number, today: string): number {
  const all = ops.hgetall(keys[2]);
  let n = 0;
  for (const token of Object.keys(all)) {
    const [amt, exp, day] = all[token].split('|');
    if (Number(exp) <= now) {
      delField(ops, keys[2], token);
      ops.hincrBy(keys[1], 'reserved', -Number(amt));
      if (day === today) ops.hincrBy(keys[0], 'reserved', -Number(amt));
      n++;
    }
  }
  return n;
}

function delField(ops: ScriptOps, key: string, field: string) {
  ops.hdel(key, field);
}

const usedLocal = (ops: ScriptOps, key: string) => Number(ops.hget(key, 'spent') ?? 0) + Number(ops.hget(key, 'reserved') ?? 0);

/**
 * KEYS: day, total, reservations, freq. ARGV: amount, dailyBudget, totalBudget (-1 none), token,
 * expiresAt, now, userId, freqCap (0 none), today, keyTtlMs. Returns 1 reserved, 0 budget, -1 cap.
 */
export const RESERVE: AtomicScript = {
  name: 'ads-reserve',
  lua: `${LUA_PURGE}
local amount = tonumber(ARGV[1])
local daily = tonumber(ARGV[2])
local total = tonumber(ARGV[3])
local cap = tonumber(ARGV[8])
if cap > 0 and tonumber(redis.call('HGET', KEYS[4], ARGV[7]) or '0') >= cap then return -1 end
local function fits() return used(KEYS[1]) + amount <= daily and (total < 0 or used(KEYS[2]) + amount <= total) end
if not fits() then
  if purge(tonumber(ARGV[6]), ARGV[9]) == 0 or not fits() then return 0 end
end
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('HINCRBY', KEYS[2], 'reserved', amount)
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1] .. '|' .. ARGV[5] .. '|' .. ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[10])
if cap > 0 then
  redis.call('HINCRBY', KEYS[4], ARGV[7], 1)
  redis.call('PEXPIRE', KEYS[4], ARGV[10])
end
return 1`,
  local(ops, keys, a) {
    const amount = Number(a[0]);
    const daily = Number(a[1]);
    const total = Number(a[2]);
    const cap = Number(a[7]);
    if (cap > 0 && Number(ops.hget(keys[3], a[6]) ?? 0) >= cap) return -1;
    const fits = () => usedLocal(ops, keys[0]) + amount <= daily && (total < 0 || usedLocal(ops, keys[1]) + amount <= total);
    if (!fits()) {
      if (purgeLocal(ops, keys, Number(a[5]), a[8]) === 0 || !fits()) return 0;
    }
    ops.hincrBy(keys[0], 'reserved', amount);
    ops.hincrBy(keys[1], 'reserved', amount);
    ops.hset(keys[2], a[3], `${a[0]}|${a[4]}|${a[8]}`);
    ops.expire(keys[0], Number(a[9]));
    if (cap > 0) {
      ops.hincrBy(keys[3], a[6], 1);
      ops.expire(keys[3], Number(a[9]));
    }
    return 1;
  },
};

/**
 * KEYS: day (of the reservation), total, reservations, seen. ARGV: token, eventId, bill (0/1),
 * impression (0/1), click (0/1), hour (HH), keyTtlMs, conversion (0/1). Returns the micros billed (0 when not a
 * billing event), -1 for an event id already applied, -2 for a billing event without reservation.
 */
export const SETTLE: AtomicScript = {
  name: 'ads-settle',
  lua: `if redis.call('HSETNX', KEYS[4], ARGV[2], '1') == 0 then return -1 end
redis.call('PEXPIRE', KEYS[4], ARGV[7])
local h = ARGV[6]
if ARGV[4] == '1' then
  redis.call('HINCRBY', KEYS[1], 'imps', 1)
  redis.call('HINCRBY', KEYS[1], 'i:' .. h, 1)
end
if ARGV[5] == '1' then
  redis.call('HINCRBY', KEYS[1], 'clicks', 1)
  redis.call('HINCRBY', KEYS[1], 'c:' .. h, 1)
end
if ARGV[8] == '1' then
  redis.call('HINCRBY', KEYS[1], 'convs', 1)
  redis.call('HINCRBY', KEYS[1], 'v:' .. h, 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if ARGV[3] ~= '1' then return 0 end
local rec = redis.call('HGET', KEYS[3], ARGV[1])
if not rec then
  redis.call('HINCRBY', KEYS[1], 'late', 1)
  return -2
end
local amt = tonumber(string.match(rec, '^(%d+)|'))
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'reserved', -amt)
redis.call('HINCRBY', KEYS[2], 'reserved', -amt)
redis.call('HINCRBY', KEYS[1], 'spent', amt)
redis.call('HINCRBY', KEYS[2], 'spent', amt)
redis.call('HINCRBY', KEYS[1], 's:' .. h, amt)
return amt`,
  local(ops, keys, a) {
    if (ops.hget(keys[3], a[1]) !== null) return -1;
    ops.hset(keys[3], a[1], '1');
    ops.expire(keys[3], Number(a[6]));
    const h = a[5];
    if (a[3] === '1') {
      ops.hincrBy(keys[0], 'imps', 1);
      ops.hincrBy(keys[0], `i:${h}`, 1);
    }
    if (a[4] === '1') {
      ops.hincrBy(keys[0], 'clicks', 1);
      ops.hincrBy(keys[0], `c:${h}`, 1);
    }
    if (a[7] === '1') {
      ops.hincrBy(keys[0], 'convs', 1);
      ops.hincrBy(keys[0], `v:${h}`, 1);
    }
    ops.expire(keys[0], Number(a[6]));
    if (a[2] !== '1') return 0;
    const rec = ops.hget(keys[2], a[0]);
    if (rec === null) {
      ops.hincrBy(keys[0], 'late', 1);
      return -2;
    }
    const amt = Number(rec.split('|')[0]);
    delField(ops, keys[2], a[0]);
    ops.hincrBy(keys[0], 'reserved', -amt);
    ops.hincrBy(keys[1], 'reserved', -amt);
    ops.hincrBy(keys[0], 'spent', amt);
    ops.hincrBy(keys[1], 'spent', amt);
    ops.hincrBy(keys[0], `s:${h}`, amt);
    return amt;
  },
};

/** KEYS: day (of the reservation), total, reservations. ARGV: token. Returns the micros released. */
export const RELEASE: AtomicScript = {
  name: 'ads-release',
  lua: `local rec = redis.call('HGET', KEYS[3], ARGV[1])
if not rec then return 0 end
local amt = tonumber(string.match(rec, '^(%d+)|'))
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'reserved', -amt)
redis.call('HINCRBY', KEYS[2], 'reserved', -amt)
return amt`,
  local(ops, keys, a) {
    const rec = ops.hget(keys[2], a[0]);
    if (rec === null) return 0;
    const amt = Number(rec.split('|')[0]);
    delField(ops, keys[2], a[0]);
    ops.hincrBy(keys[0], 'reserved', -amt);
    ops.hincrBy(keys[1], 'reserved', -amt);
    return amt;
  },
};

/** KEYS: today, total, reservations. ARGV: now, today. Returns how many expired reservations were released. */
export const SWEEP: AtomicScript = {
  name: 'ads-sweep',
  lua: `${LUA_PURGE}
return purge(tonumber(ARGV[1]), ARGV[2])`,
  local: (ops, keys, a) => purgeLocal(ops, keys, Number(a[0]), a[1]),
};

export interface ReserveRequest {
  campaignId: string;
  day: string;
  token: string;
  amountMicros: number;
  dailyBudgetMicros: number;
  totalBudgetMicros: number | null;
  userId: string;
  frequencyCap: number | null;
  expiresAt: number;
  now: number;
}

export type ReserveResult = 'reserved' | 'budget' | 'frequency_cap';

export interface SettleRequest {
  campaignId: string;
  /** Day of the reservation (from the tracking token). */
  day: string;
  token: string;
  eventId: string;
  bill: boolean;
  impression: boolean;
  click: boolean;
  /** A conversion (counted in the delivery; never billed: CPC and CPM bill clicks and impressions). */
  conversion?: boolean;
  /** Campaign-local hour of the event, 0..23. */
  hour: number;
}

export type SettleResult = { status: 'billed'; micros: number } | { status: 'counted' } | { status: 'duplicate' } | { status: 'late' };

export interface DayState {
  spent: number;
  reserved: number;
  imps: number;
  clicks: number;
  conversions: number;
  late: number;
  hourly: { spend: number[]; imps: number[]; clicks: number[]; conversions: number[] };
}

export class BudgetLedger {
  constructor(private readonly state: StateStore) {}

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    const c = r.campaignId;
    const res = await this.state.runScript(
      RESERVE,
      [budgetKeys.day(c, r.day), budgetKeys.total(c), budgetKeys.reservations(c), budgetKeys.freq(c, r.day)],
      [r.amountMicros, r.dailyBudgetMicros, r.totalBudgetMicros ?? -1, r.token, r.expiresAt, r.now, r.userId, r.frequencyCap ?? 0, r.day, DAY_TTL_MS],
    );
    return res === 1 ? 'reserved' : res === -1 ? 'frequency_cap' : 'budget';
  }

  async settle(s: SettleRequest): Promise<SettleResult> {
    const c = s.campaignId;
    const res = (await this.state.runScript(
      SETTLE,
      [budgetKeys.day(c, s.day), budgetKeys.total(c), budgetKeys.reservations(c), budgetKeys.seen(c, s.day)],
      [s.token, s.eventId, s.bill ? 1 : 0, s.impression ? 1 : 0, s.click ? 1 : 0, String(s.hour).padStart(2, '0'), DAY_TTL_MS, s.conversion ? 1 : 0],
    )) as number;
    if (res === -1) return { status: 'duplicate' };
    if (res === -2) return { status: 'late' };
    return s.bill ? { status: 'billed', micros: res } : { status: 'counted' };
  }

  async release(campaignId: string, day: string, token: string): Promise<number> {
    return (await this.state.runScript(RELEASE, [budgetKeys.day(campaignId, day), budgetKeys.total(campaignId), budgetKeys.reservations(campaignId)], [token])) as number;
  }

  async sweep(campaignId: string, today: string, now: number): Promise<number> {
    return (await this.state.runScript(SWEEP, [budgetKeys.day(campaignId, today), budgetKeys.total(campaignId), budgetKeys.reservations(campaignId)], [now, today])) as number;
  }

  /** Spent + reserved of many campaigns today, in one round trip. */
  async usage(entries: ReadonlyArray<{ campaignId: string; day: string }>): Promise<{ spent: number; reserved: number; totalSpent: number; totalReserved: number }[]> {
    const out = await Promise.all(
      entries.map(async (e) => {
        const [d, t] = await Promise.all([this.state.hgetall(budgetKeys.day(e.campaignId, e.day)), this.state.hgetall(budgetKeys.total(e.campaignId))]);
        return { spent: num(d.spent), reserved: num(d.reserved), totalSpent: num(t.spent), totalReserved: num(t.reserved) };
      }),
    );
    return out;
  }

  async day(campaignId: string, day: string): Promise<DayState> {
    const d = await this.state.hgetall(budgetKeys.day(campaignId, day));
    const hourly = { spend: new Array(24).fill(0), imps: new Array(24).fill(0), clicks: new Array(24).fill(0), conversions: new Array(24).fill(0) };
    for (let h = 0; h < 24; h++) {
      const hh = String(h).padStart(2, '0');
      hourly.spend[h] = num(d[`s:${hh}`]);
      hourly.imps[h] = num(d[`i:${hh}`]);
      hourly.clicks[h] = num(d[`c:${hh}`]);
      hourly.conversions[h] = num(d[`v:${hh}`]);
    }
    return { spent: num(d.spent), reserved: num(d.reserved), imps: num(d.imps), clicks: num(d.clicks), conversions: num(d.convs), late: num(d.late), hourly };
  }
}

const num = (b: Buffer | undefined) => (b ? Number(b.toString()) : 0);
