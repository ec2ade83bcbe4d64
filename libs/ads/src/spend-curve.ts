/**
 * Spend curves: hourly targets from a traffic profile, the spend error against them, and the
 * campaign-local calendar (day key, hour, fraction of the day) in an IANA time zone.
 */

/** Hourly target spend: budget x the profile's share of each hour (shares of 24 buckets). */
export function hourlyTargets(budget: number, shares: readonly number[]): number[] {
  if (shares.length !== 24) throw new RangeError(`need 24 hourly shares, got ${shares.length}`);
  const sum = shares.reduce((a, b) => a + b, 0);
  return shares.map((s) => (budget * s) / sum);
}

export interface SpendError {
  /** sum_h |actual - target| / sum_h target: the mean hourly error, weighted by the target. */
  weighted: number;
  /** Mean over hours with a target of |actual - target| / target. */
  meanRelative: number;
  perHour: number[];
}

export function spendError(actual: readonly number[], target: readonly number[]): SpendError {
  if (actual.length !== target.length) throw new RangeError('actual and target differ in length');
  let absSum = 0;
  let targetSum = 0;
  let relSum = 0;
  let relN = 0;
  const perHour = actual.map((a, h) => {
    const t = target[h];
    absSum += Math.abs(a - t);
    targetSum += t;
    if (t > 0) {
      relSum += Math.abs(a - t) / t;
      relN++;
      return (a - t) / t;
    }
    return a > 0 ? Infinity : 0;
  });
  return { weighted: targetSum > 0 ? absSum / targetSum : 0, meanRelative: relN ? relSum / relN : 0, perHour };
}

/** Cumulative sum. */
export function cumulative(xs: readonly number[]): number[] {
  let c = 0;
  return xs.map((x) => (c += x));
}

export interface ZonedTime {
  /** Local calendar day, YYYY-MM-DD. */
  day: string;
  hour: number;
  /** Seconds since local midnight / 86400 (a DST day is treated as 24 h). */
  dayFraction: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the time zone (e.g. `Europe/Berlin`, `UTC`). */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

const minuteCache = new Map<string, { day: string; hour: number; minuteSeconds: number }>();

/**
 * The campaign-local calendar of an instant. Memoised per zone and minute (UTC offsets change on
 * minute boundaries only, so the minute's day, hour and seconds since midnight are exact; the
 * seconds inside the minute are added): the fill asks it for every winner, and Intl formatting
 * costs microseconds.
 */
export function zonedTime(epochMs: number, timeZone: string): ZonedTime {
  const minuteStart = Math.floor(epochMs / 60_000) * 60_000;
  const key = `${timeZone}|${minuteStart}`;
  let m = minuteCache.get(key);
  if (!m) {
    const parts = formatter(timeZone).formatToParts(new Date(minuteStart));
    const get = (t: string) => parts.find((p) => p.type === t)!.value;
    const hour = Number(get('hour'));
    m = { day: `${get('year')}-${get('month')}-${get('day')}`, hour, minuteSeconds: hour * 3600 + Number(get('minute')) * 60 + Number(get('second')) };
    if (minuteCache.size >= 10_000) minuteCache.clear();
    minuteCache.set(key, m);
  }
  const seconds = m.minuteSeconds + (epochMs - minuteStart) / 1000;
  return { day: m.day, hour: m.hour, dayFraction: Math.min(0.999999, seconds / 86400) };
}
