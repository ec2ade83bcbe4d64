import { GaussianStream, SplitMix64 } from '@recsys/sdim';

/**
 * Seeded catalog and behaviour streams for the ingest benchmark. Items belong to topics (unit
 * centroids plus noise); every user prefers a handful of topics; behaviours arrive in event-time
 * order per user, users interleaved at random, as a user-keyed Kafka partition delivers them.
 */
export interface Catalog {
  ids: string[];
  embeddings: Float32Array[];
  topicOf: Int32Array;
  topics: number;
}

export function catalog(seed: number, n: number, d: number, topics: number, spread = 0.7): Catalog {
  const g = new GaussianStream(new SplitMix64(seed));
  const unit = (v: Float64Array) => {
    let s = 0;
    for (const x of v) s += x * x;
    s = Math.sqrt(s);
    return Float32Array.from(v, (x) => x / s);
  };
  const cents = Array.from({ length: topics }, () => unit(Float64Array.from({ length: d }, () => g.next())));
  const topicOf = new Int32Array(n);
  const embeddings: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const t = i % topics;
    topicOf[i] = t;
    embeddings.push(unit(Float64Array.from(cents[t], (c) => c + (spread / Math.sqrt(d)) * g.next())));
  }
  return { ids: embeddings.map((_, i) => `item-${i}`), embeddings, topicOf, topics };
}

/** A 36-character id (UUID layout) from the PRNG: realistic event-id length for the byte counts. */
export function pseudoUuid(r: SplitMix64): string {
  const h = (r.nextU64().toString(16).padStart(16, '0') + r.nextU64().toString(16).padStart(16, '0')).slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface StreamEvent {
  eventId: string;
  userId: string;
  itemId: string;
  type: string;
  ts: number;
}

/**
 * `perUser` behaviours for each of `users` users, interleaved. Each user picks items from 5 topics
 * of its own; event times advance by about a minute per behaviour.
 */
export function behaviourStream(seed: number, cat: Catalog, users: number, perUser: number, userPrefix = 'user'): StreamEvent[] {
  const r = new SplitMix64(seed);
  const byTopic: number[][] = Array.from({ length: cat.topics }, () => []);
  cat.topicOf.forEach((t, i) => byTopic[t].push(i));
  const prefs = Array.from({ length: users }, () => Array.from({ length: 5 }, () => Math.floor(r.nextDouble() * cat.topics)));
  const next = new Int32Array(users);
  const clock = Float64Array.from({ length: users }, () => 1_700_000_000_000 + Math.floor(r.nextDouble() * 3600_000));
  const out: StreamEvent[] = [];
  const live = Array.from({ length: users }, (_, u) => u);
  const types = ['view', 'view', 'view', 'click', 'click', 'like', 'add_to_cart', 'purchase'];
  while (live.length) {
    const k = Math.floor(r.nextDouble() * live.length);
    const u = live[k];
    const topic = prefs[u][Math.floor(r.nextDouble() * 5)];
    const pool = byTopic[topic];
    const item = pool[Math.floor(r.nextDouble() * pool.length)];
    clock[u] += 1000 + Math.floor(r.nextDouble() * 120_000);
    out.push({ eventId: pseudoUuid(r), userId: `${userPrefix}-${u}`, itemId: cat.ids[item], type: types[Math.floor(r.nextDouble() * types.length)], ts: clock[u] });
    if (++next[u] === perUser) live.splice(k, 1);
  }
  return out;
}

/**
 * `events` behaviours from `users` users whose activity follows Zipf(s): user k (1-based rank) acts
 * with probability proportional to k^-s. With s = 1.1 over 100,000 users the top 2,000 users make
 * about 80% of the events and most of the others appear once or never: a skewed real stream.
 * Each user's behaviours come from 5 topics of its own, in event-time order.
 */
export function zipfStream(seed: number, cat: Catalog, users: number, events: number, s = 1.1, userPrefix = 'zipf'): StreamEvent[] {
  const r = new SplitMix64(seed);
  const cdf = new Float64Array(users);
  let acc = 0;
  for (let k = 0; k < users; k++) cdf[k] = acc += Math.pow(k + 1, -s);
  const byTopic: number[][] = Array.from({ length: cat.topics }, () => []);
  cat.topicOf.forEach((t, i) => byTopic[t].push(i));
  const state = new Map<number, { prefs: number[]; clock: number }>();
  const types = ['view', 'view', 'view', 'click', 'click', 'like', 'add_to_cart', 'purchase'];
  const out: StreamEvent[] = [];
  for (let n = 0; n < events; n++) {
    const x = r.nextDouble() * acc;
    let lo = 0;
    let hi = users - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    let st = state.get(lo);
    if (!st) state.set(lo, (st = { prefs: Array.from({ length: 5 }, () => Math.floor(r.nextDouble() * cat.topics)), clock: 1_700_000_000_000 + Math.floor(r.nextDouble() * 3600_000) }));
    const pool = byTopic[st.prefs[Math.floor(r.nextDouble() * 5)]];
    st.clock += 1000 + Math.floor(r.nextDouble() * 120_000);
    out.push({
      eventId: pseudoUuid(r),
      userId: `${userPrefix}-${lo}`,
      itemId: cat.ids[pool[Math.floor(r.nextDouble() * pool.length)]],
      type: types[Math.floor(r.nextDouble() * types.length)],
      ts: st.clock,
    });
  }
  return out;
}
