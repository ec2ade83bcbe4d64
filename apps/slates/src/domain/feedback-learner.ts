import { defaultExamination, estimatePbm, examinationAt, observeLogistic, type Effect, type PositionCount } from '@recsys/bandits';
import type { FeedFeedbackEvent, FeedImpressionEvent } from '@recsys/contracts';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { NO_GROUP, slatesKeys } from './keys';
import { encodeEffect, encodeItem, PosteriorStore, type ItemRecord } from './posterior-store';

const encode = (x: unknown) => JSON.stringify(x);

/**
 * Joins feed.impressions and feed.feedback by requestId and turns them into posterior updates.
 *
 * - A click on a shown item (event time within `windowMs` of the impression) is a positive
 *   observation, applied as soon as both sides are known, whichever arrived first (a click that
 *   comes before its impression waits in the request's join record).
 * - When a request's window closes (`windowMs` after its impression was received) every shown
 *   item not clicked is a skip, weighted by P(examined | skip) at its position: the PBM estimate
 *   (EM over the per (item, position) counts, refreshed by `estimatePositionBias`), or the cascade
 *   model (examined down to the last click).
 * - Idempotent by event id: the ids applied are kept in the join record, written in the same
 *   MULTI/EXEC as the posteriors they moved, so a replayed topic changes nothing.
 * - Malformed (schema-valid but unusable) impressions are rejected for the DLQ.
 * A late click (its request already closed as skips) still counts as a click; the skip it
 * contradicts is not undone (documented approximation).
 */
export interface LearnerOptions {
  windowMs: number;
  /** how long join records (and so the event-id dedupe) are kept after the window */
  retentionMs: number;
  examination: 'pbm' | 'cascade';
  /** positions the PBM estimate covers (deeper positions take the last one) */
  positions: number;
}

export type ItemState = 'p' | 'c' | 's';

export interface JoinRecord {
  imp?: { ts: number; receivedAt: number; items: { id: string; pos: number; score: number; group: string; st: ItemState }[] };
  /** clicks that arrived before the impression: itemId -> event time */
  early: Record<string, number>;
  seen: string[];
  done?: boolean;
}

export interface Observation {
  itemId: string;
  group: string;
  pctr: number;
  clicked: boolean;
  examination: number;
}

export interface PositionBias {
  model: 'pbm' | 'cascade';
  examination: number[];
  source: 'default' | 'em';
  impressions: number[];
  clicks: number[];
  iterations: number;
  updatedAt: number | null;
}

export class FeedbackLearner {
  private chain: Promise<unknown> = Promise.resolve();
  /** requestId -> deadline (ms since epoch) of the requests whose window is open */
  readonly deadlines = new Map<string, number>();
  private examination: number[];
  readonly stats = { observations: 0, clicks: 0, skips: 0, duplicates: 0, unjoinable: 0, lateClicks: 0 };

  constructor(
    private readonly state: StateStore,
    readonly posteriors: PosteriorStore,
    readonly opts: LearnerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.examination = defaultExamination(opts.positions);
  }

  /** Runs `fn` after every earlier learner operation (the learner is a single writer). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Reloads the open windows and the position-bias estimate (after a restart). */
  async restore(): Promise<void> {
    const pending = await this.state.hgetall(slatesKeys.pending());
    for (const [id, v] of Object.entries(pending)) this.deadlines.set(id, Number(v.toString()));
    const pb = await this.state.get(slatesKeys.positionBias());
    if (pb) this.examination = (JSON.parse(pb.toString()) as PositionBias).examination;
  }

  currentExamination(): number[] {
    return [...this.examination];
  }

  applyImpressions(events: FeedImpressionEvent[]): Promise<{ index: number; code: string; reason: string }[]> {
    return this.serial(() => this.apply(events.map((e) => ({ kind: 'imp' as const, e }))));
  }

  applyFeedback(events: FeedFeedbackEvent[]): Promise<{ index: number; code: string; reason: string }[]> {
    return this.serial(() => this.apply(events.map((e) => ({ kind: 'fb' as const, e }))));
  }

  /** Closes the windows due by `now` (skips for every shown item not clicked). Returns how many requests closed. */
  closeDue(now = this.now()): Promise<number> {
    return this.serial(async () => {
      const due = [...this.deadlines].filter(([, d]) => d <= now).map(([id]) => id);
      for (let k = 0; k < due.length; k += 1000) await this.close(due.slice(k, k + 1000));
      return due.length;
    });
  }

  private async apply(batch: ({ kind: 'imp'; e: FeedImpressionEvent } | { kind: 'fb'; e: FeedFeedbackEvent })[]) {
    const rejected: { index: number; code: string; reason: string }[] = [];
    const ids = [...new Set(batch.map((b) => b.e.requestId).filter((x): x is string => !!x))];
    const records = await this.readRecords(ids);
    const dirty = new Set<string>();
    const obs: Observation[] = [];
    const newPending = new Map<string, number>();
    const clickCounts: [string, number][] = [];
    batch.forEach((b, index) => {
      if (b.kind === 'imp') {
        const e = b.e;
        const learnable = e.items.filter((x) => !x.isAd);
        const bad = malformed(learnable);
        if (bad) return rejected.push({ index, code: 'malformed_impression', reason: bad });
        const rec = records.get(e.requestId)!;
        if (rec.seen.includes(e.eventId) || rec.imp) {
          this.stats.duplicates++;
          return;
        }
        rec.seen.push(e.eventId);
        const receivedAt = this.now();
        rec.imp = {
          ts: e.timestamp,
          receivedAt,
          items: learnable
            .filter((x) => x.score !== undefined)
            .map((x) => ({ id: x.itemId, pos: x.position, score: x.score!, group: (x as { group?: string }).group || NO_GROUP, st: 'p' as ItemState })),
        };
        for (const it of rec.imp.items) {
          const t = rec.early[it.id];
          if (t !== undefined && t <= e.timestamp + this.opts.windowMs) {
            it.st = 'c';
            obs.push({ itemId: it.id, group: it.group, pctr: it.score, clicked: true, examination: 1 });
          }
        }
        rec.early = {};
        newPending.set(e.requestId, receivedAt + this.opts.windowMs);
        dirty.add(e.requestId);
      } else {
        const e = b.e;
        if (e.type !== 'click') return;
        if (!e.requestId) {
          this.stats.unjoinable++;
          return;
        }
        const rec = records.get(e.requestId)!;
        if (rec.seen.includes(e.eventId)) {
          this.stats.duplicates++;
          return;
        }
        rec.seen.push(e.eventId);
        dirty.add(e.requestId);
        if (!rec.imp) {
          const prev = rec.early[e.itemId];
          rec.early[e.itemId] = prev === undefined ? e.timestamp : Math.min(prev, e.timestamp);
          return;
        }
        const it = rec.imp.items.find((x) => x.id === e.itemId);
        if (!it || it.st === 'c' || e.timestamp > rec.imp.ts + this.opts.windowMs) return;
        if (it.st === 's') {
          this.stats.lateClicks++;
          clickCounts.push([`${it.pos}|${it.id}`, 1]);
        }
        it.st = 'c';
        obs.push({ itemId: it.id, group: it.group, pctr: it.score, clicked: true, examination: 1 });
      }
    });
    await this.commit(records, dirty, obs, { pending: newPending, clicks: clickCounts });
    return rejected;
  }

  private async close(ids: string[]) {
    const records = await this.readRecords(ids);
    const obs: Observation[] = [];
    const imps: [string, number][] = [];
    const clicks: [string, number][] = [];
    const dirty = new Set<string>();
    for (const id of ids) {
      const rec = records.get(id)!;
      if (!rec.imp || rec.done) continue;
      rec.done = true;
      dirty.add(id);
      const clickedPos = rec.imp.items.filter((x) => x.st === 'c').map((x) => x.pos);
      const lastClick = clickedPos.length ? Math.max(...clickedPos) : -1;
      for (const it of rec.imp.items) {
        const field = `${it.pos}|${it.id}`;
        imps.push([field, 1]);
        if (it.st === 'c') {
          clicks.push([field, 1]);
          continue;
        }
        it.st = 's';
        const examination = this.opts.examination === 'cascade' ? (lastClick < 0 || it.pos <= lastClick ? 1 : 0) : examinationAt(this.examination, it.pos);
        obs.push({ itemId: it.id, group: it.group, pctr: it.score, clicked: false, examination });
      }
    }
    await this.commit(records, dirty, obs, { closed: ids, imps, clicks });
    for (const id of ids) this.deadlines.delete(id);
  }

  private async readRecords(ids: string[]): Promise<Map<string, JoinRecord>> {
    const vals = ids.length ? await this.state.getMany(ids.map(slatesKeys.request)) : [];
    const out = new Map<string, JoinRecord>();
    for (let k = 0; k < ids.length; k++) out.set(ids[k], vals[k] ? decodeJoin(vals[k]!) : { early: {}, seen: [] });
    return out;
  }

  /** Applies the observations to the posteriors and writes them with the join records in one MULTI/EXEC. */
  private async commit(
    records: Map<string, JoinRecord>,
    dirty: Set<string>,
    obs: Observation[],
    extra: { pending?: Map<string, number>; closed?: string[]; imps?: [string, number][]; clicks?: [string, number][] },
  ) {
    const tx = this.state.transaction();
    let n = 0;
    if (obs.length) {
      const snap = await this.cachedPosteriors(obs);
      const items = new Map<string, ItemRecord>();
      const now = this.now();
      for (const o of obs) {
        const g = o.group || NO_GROUP;
        const known = items.get(o.itemId) ?? snap.items.get(o.itemId);
        let item = known ?? this.posteriors.newItem(g);
        if (item.group !== g) item = { ...item, group: g };
        const group = snap.groups.get(g)!;
        const w = observeLogistic({ slope: snap.slope, group, item }, { pctr: o.pctr, clicked: o.clicked, examination: o.examination });
        if (w > 0) {
          snap.slope.exposures += w;
          if (o.clicked) snap.slope.clicks += 1;
          item.updatedAt = now;
        }
        // an unexamined skip (weight 0) of an item never seen leaves no record
        if (w > 0 || known) {
          items.set(o.itemId, item);
          this.cache.items.set(o.itemId, item);
        }
        this.stats.observations++;
        if (o.clicked) this.stats.clicks++;
        else this.stats.skips++;
      }
      const writes: [string, Buffer][] = [[slatesKeys.slope(), encodeEffect(snap.slope, now)]];
      for (const [g, e] of snap.groups) writes.push([slatesKeys.group(g), encodeEffect(e, now)]);
      for (const [id, it] of items) writes.push([slatesKeys.item(id), encodeItem(it)]);
      tx.setMany(writes);
      n++;
    }
    for (const id of dirty) {
      tx.set(slatesKeys.request(id), encodeJoin(records.get(id)!), { ttlMs: this.opts.windowMs + this.opts.retentionMs });
      n++;
    }
    if (extra.pending?.size) {
      tx.hset(slatesKeys.pending(), Object.fromEntries([...extra.pending].map(([id, d]) => [id, String(d)])));
      n++;
    }
    if (extra.closed?.length) {
      tx.hdel(slatesKeys.pending(), extra.closed);
      n++;
    }
    if (extra.imps?.length || extra.clicks?.length) {
      // PBM counts: the learner mirrors the two hashes (single writer) and writes the new absolute
      // values of the fields this batch touched, one HSET per hash, with the records that moved them
      const counts = await this.pbmCounts();
      const bump = (m: Map<string, number>, list: [string, number][] | undefined) => {
        const out: Record<string, string> = {};
        for (const [f, by] of list ?? []) {
          const v = (m.get(f) ?? 0) + by;
          m.set(f, v);
          out[f] = String(v);
        }
        return out;
      };
      const imps = bump(counts.imps, extra.imps);
      const clicks = bump(counts.clicks, extra.clicks);
      if (extra.imps?.length) {
        tx.hset(slatesKeys.pbmImpressions(), imps);
        n++;
      }
      if (extra.clicks?.length) {
        tx.hset(slatesKeys.pbmClicks(), clicks);
        n++;
      }
    }
    if (n) {
      try {
        await tx.exec();
      } catch (e) {
        // the cached posteriors moved ahead of the store: forget them (the batch is redelivered)
        this.clearCache();
        throw e;
      }
    }
    for (const [id, d] of extra.pending ?? []) this.deadlines.set(id, d);
  }

  /**
   * Write-through cache of the posteriors this learner wrote or read: the learner is the single
   * writer of the `{slates}:post:*` keys (see README), so what it wrote last is what the store
   * holds; a batch reads from the store only the items it has not seen since the process started.
   * Bounded: cleared when it exceeds `cacheItems` entries.
   */
  private readonly cache: { slope?: Effect; groups: Map<string, Effect>; items: Map<string, ItemRecord | null> } = { groups: new Map(), items: new Map() };
  private readonly cacheItems = 200_000;

  private counts?: { imps: Map<string, number>; clicks: Map<string, number> };

  private async pbmCounts() {
    if (!this.counts) {
      const [imps, clicks] = await Promise.all([this.state.hgetall(slatesKeys.pbmImpressions()), this.state.hgetall(slatesKeys.pbmClicks())]);
      const toMap = (h: Record<string, Buffer>) => new Map(Object.entries(h).map(([f, v]) => [f, Number(v.toString())]));
      this.counts = { imps: toMap(imps), clicks: toMap(clicks) };
    }
    return this.counts;
  }

  clearCache() {
    this.counts = undefined;
    this.cache.slope = undefined;
    this.cache.groups.clear();
    this.cache.items.clear();
  }

  private async cachedPosteriors(obs: Observation[]) {
    const c = this.cache;
    if (c.items.size > this.cacheItems) this.clearCache();
    const missingItems: string[] = [];
    const missingGroups: string[] = [];
    const seenItem = new Set<string>();
    const seenGroup = new Set<string>();
    for (const o of obs) {
      if (!c.items.has(o.itemId) && !seenItem.has(o.itemId)) {
        seenItem.add(o.itemId);
        missingItems.push(o.itemId);
      }
      const g = o.group || NO_GROUP;
      if (!c.groups.has(g) && !seenGroup.has(g)) {
        seenGroup.add(g);
        missingGroups.push(g);
      }
    }
    if (!c.slope || missingItems.length || missingGroups.length) {
      const snap = await this.posteriors.read(missingItems, missingGroups);
      if (!c.slope) c.slope = snap.slope;
      for (const [g, e] of snap.groups) if (!c.groups.has(g)) c.groups.set(g, e);
      for (const [id, r] of snap.items) if (!c.items.has(id)) c.items.set(id, r);
    }
    // the groups this batch touches (written back with the batch)
    const groups = new Map<string, Effect>();
    for (const o of obs) {
      const g = o.group || NO_GROUP;
      groups.set(g, c.groups.get(g)!);
    }
    return { slope: c.slope!, groups, items: c.items };
  }

  /** EM over the stored (item, position) counts; stores and returns the estimate. */
  async estimatePositionBias(): Promise<PositionBias> {
    const [imps, clicks] = await Promise.all([this.state.hgetall(slatesKeys.pbmImpressions()), this.state.hgetall(slatesKeys.pbmClicks())]);
    const rows: PositionCount[] = [];
    const P = this.opts.positions;
    const perPosImps = new Array(P).fill(0);
    const perPosClicks = new Array(P).fill(0);
    for (const [field, v] of Object.entries(imps)) {
      const bar = field.indexOf('|');
      const pos = Math.min(P - 1, Number(field.slice(0, bar)));
      const c = Number(clicks[field]?.toString() ?? 0);
      const n = Number(v.toString());
      rows.push({ item: field.slice(bar + 1), position: pos, impressions: n, clicks: c });
      perPosImps[pos] += n;
      perPosClicks[pos] += c;
    }
    // EM once position 0 and every position shown so far have clicks; positions never shown keep
    // the default decay from the last estimated one.
    const shown = perPosImps.map((n) => n > 0);
    const enough = shown[0] && perPosClicks.every((c, k) => !shown[k] || c > 0);
    const est = enough ? estimatePbm(rows, { positions: P }) : null;
    const dflt = defaultExamination(P);
    const examination = est ? est.examination.map((e, k) => (shown[k] ? e : NaN)) : dflt;
    for (let k = 1; k < P; k++) if (Number.isNaN(examination[k])) examination[k] = Math.min(examination[k - 1], (examination[k - 1] * dflt[k]) / dflt[k - 1]);
    const out: PositionBias = {
      model: this.opts.examination,
      examination,
      source: est ? 'em' : 'default',
      impressions: perPosImps,
      clicks: perPosClicks,
      iterations: est?.iterations ?? 0,
      updatedAt: this.now(),
    };
    await this.state.set(slatesKeys.positionBias(), encode(out));
    this.examination = out.examination;
    return out;
  }
}

/**
 * Join records are stored as positional JSON arrays (no field names: about half the bytes of the
 * keyed form, and cheaper to build and parse):
 * `[2, done, ts, receivedAt, [[itemId, position, score, group, state], ...], [[itemId, clickTime], ...], [eventId, ...]]`
 * (ts = -1 while the impression has not arrived). Keyed records of earlier versions are still read.
 */
type CompactJoin = [2, 0 | 1, number, number, [string, number, number, string, ItemState][], [string, number][], string[]];

export function encodeJoin(r: JoinRecord): string {
  const items: CompactJoin[4] = r.imp ? r.imp.items.map((x) => [x.id, x.pos, x.score, x.group, x.st]) : [];
  const early: CompactJoin[5] = [];
  for (const id in r.early) early.push([id, r.early[id]]);
  const c: CompactJoin = [2, r.done ? 1 : 0, r.imp ? r.imp.ts : -1, r.imp ? r.imp.receivedAt : -1, items, early, r.seen];
  return JSON.stringify(c);
}

export function decodeJoin(b: Buffer): JoinRecord {
  const v = JSON.parse(b.toString('utf8')) as CompactJoin | JoinRecord;
  if (!Array.isArray(v)) return v;
  const early: Record<string, number> = {};
  for (const [id, t] of v[5]) early[id] = t;
  const rec: JoinRecord = { early, seen: v[6] };
  if (v[1]) rec.done = true;
  if (v[2] >= 0) rec.imp = { ts: v[2], receivedAt: v[3], items: v[4].map(([id, pos, score, group, st]) => ({ id, pos, score, group, st })) };
  return rec;
}

function malformed(items: { itemId: string; position: number }[]): string | null {
  const ids = new Set<string>();
  const pos = new Set<number>();
  for (const it of items) {
    if (ids.has(it.itemId)) return `item '${it.itemId}' shown twice`;
    if (pos.has(it.position)) return `position ${it.position} used twice`;
    ids.add(it.itemId);
    pos.add(it.position);
  }
  return null;
}
