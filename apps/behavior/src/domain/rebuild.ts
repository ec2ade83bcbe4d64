import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { BucketTables, SdimHasher } from '@recsys/sdim';
import { versionKey } from './apply-behaviors';
import { behaviorKeys as K } from './behavior-keys';
import { BehaviorRepositoryConfig } from './behavior.types';
import { Entry, Head, compareEntries, emptyHead } from './history';
import { ItemRecord, decodeItem, itemSignatures, itemSnapped } from './item-record';
import { addWeighted } from './recency-embedding';

export interface RebuildPlan {
  head: Head;
  tables: BucketTables;
  /** Every segment of the rebuilt history (new ids). */
  segments: Map<number, Entry[]>;
  /** The old segment ids. */
  removedSegments: number[];
}

/**
 * Recomputes a user's state from the history entries: each entry's recorded embedding version, or
 * the item's current one when that version is gone (the entry then records the current version);
 * entries whose item is unknown altogether are dropped. The history is re-cut into full segments
 * (new ids; the caller stores the newest inline in the head) and capped again (the cap may have
 * been lowered).
 */
export async function rebuildUserState(store: StateStore, old: Head, segments: Map<number, Entry[]>, config: BehaviorRepositoryConfig, hasher: SdimHasher, fingerprint: number): Promise<RebuildPlan> {
  let entries = old.segments.flatMap((s) => segments.get(s.id) ?? []);
  entries.sort(compareEntries);
  const recs = new Map<string, ItemRecord | null>();
  const wanted = [...new Map(entries.map((e) => [versionKey(e.itemId, e.ver), e] as const)).values()];
  if (wanted.length) {
    const p = store.pipeline();
    for (const e of wanted) p.get(K.itemVersion(e.itemId, e.ver));
    const raw = (await p.exec()) as (Buffer | null)[];
    wanted.forEach((e, i) => recs.set(versionKey(e.itemId, e.ver), raw[i] ? decodeItem(e.itemId, raw[i]!) : null));
  }
  const missing = [...new Set(entries.filter((e) => !recs.get(versionKey(e.itemId, e.ver))).map((e) => e.itemId))];
  const current = new Map<string, ItemRecord | null>();
  if (missing.length) {
    const p = store.pipeline();
    for (const id of missing) p.get(K.item(id));
    const raw = (await p.exec()) as (Buffer | null)[];
    missing.forEach((id, i) => current.set(id, raw[i] ? decodeItem(id, raw[i]!) : null));
  }
  const withRecord: { e: Entry; rec: ItemRecord }[] = [];
  for (const e of entries) {
    let rec = recs.get(versionKey(e.itemId, e.ver)) ?? null;
    if (!rec) {
      rec = current.get(e.itemId) ?? null;
      if (!rec) continue;
      e.ver = rec.version;
    }
    withRecord.push({ e, rec });
  }
  const kept = withRecord.slice(Math.max(0, withRecord.length - config.historyCap));
  entries = kept.map((k) => k.e);

  const head = emptyHead(hasher.config.d);
  head.nextSegId = old.nextSegId;
  const tables = new BucketTables(hasher);
  for (const { e, rec } of kept) {
    tables.addSnapped(itemSnapped(rec), itemSignatures(rec, hasher, fingerprint));
    head.total++;
    addWeighted(head, rec.embedding, e.ts, config.halfLifeMs, 1);
    if (e.ts > head.newestTs) head.newestTs = e.ts;
  }
  const out = new Map<number, Entry[]>();
  for (let i = 0; i < entries.length; i += config.segmentSize) {
    const part = entries.slice(i, i + config.segmentSize);
    const id = head.nextSegId++;
    out.set(id, part);
    const last = part[part.length - 1];
    head.segments.push({ id, count: part.length, skip: 0, firstTs: part[0].ts, firstEventId: part[0].eventId, lastTs: last.ts, lastEventId: last.eventId });
  }
  return { head, tables, segments: out, removedSegments: old.segments.map((s) => s.id) };
}
