import { DEFAULT_PRIOR, newEffect, type Effect, type LogisticPrior } from '@recsys/bandits';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { NO_GROUP, slatesKeys } from './keys';

/** An item's stored posterior: its Gaussian effect and counts, and the group it was last seen in. */
export interface ItemRecord extends Effect {
  group: string;
  updatedAt: number;
}

export type GroupRecord = Effect & { updatedAt: number };

export interface PosteriorSnapshot {
  slope: Effect;
  groups: Map<string, Effect>;
  items: Map<string, ItemRecord | null>;
}

/**
 * The candidates' posteriors as typed arrays (what POST /v1/slates needs, without an object per
 * item): per candidate its group index and item effect (the prior when the item has no record),
 * per distinct group its effect.
 */
export interface SlateSnapshot {
  slope: Effect;
  groupNames: string[];
  groupM: Float64Array;
  groupQ: Float64Array;
  groupClicks: Float64Array;
  groupExposures: Float64Array;
  /** group index per candidate */
  groupOf: Int32Array;
  itemM: Float64Array;
  itemQ: Float64Array;
  itemClicks: Float64Array;
  itemExposures: Float64Array;
}

/**
 * Stored layout (binary, 41 bytes + the group name): a version byte 1, then little-endian float64
 * m, q, clicks, exposures, updatedAt, then (items) the group name in UTF-8. Records written as
 * JSON by earlier versions (first byte `{`) are still read.
 */
const VERSION = 1;
const HEAD = 41;

export function encodeEffect(e: Effect, updatedAt = 0, group?: string): Buffer {
  const g = group === undefined ? 0 : Buffer.byteLength(group);
  const b = Buffer.allocUnsafe(HEAD + g);
  b[0] = VERSION;
  b.writeDoubleLE(e.m, 1);
  b.writeDoubleLE(e.q, 9);
  b.writeDoubleLE(e.clicks, 17);
  b.writeDoubleLE(e.exposures, 25);
  b.writeDoubleLE(updatedAt, 33);
  if (g) b.write(group!, HEAD, 'utf8');
  return b;
}

export const encodeItem = (r: ItemRecord): Buffer => encodeEffect(r, r.updatedAt, r.group);

/** Decodes a stored effect (binary or legacy JSON) into an item record (group '' for the slope and groups). */
export function decodeRecord(b: Buffer): ItemRecord {
  if (b[0] === VERSION && b.length >= HEAD)
    return { m: b.readDoubleLE(1), q: b.readDoubleLE(9), clicks: b.readDoubleLE(17), exposures: b.readDoubleLE(25), updatedAt: b.readDoubleLE(33), group: b.toString('utf8', HEAD) };
  const j = JSON.parse(b.toString('utf8')) as Partial<ItemRecord> & Effect;
  return { m: j.m, q: j.q, clicks: j.clicks, exposures: j.exposures, updatedAt: j.updatedAt ?? 0, group: j.group ?? '' };
}

const effectOf = (b: Buffer | null): Effect | null => {
  if (!b) return null;
  const r = decodeRecord(b);
  return { m: r.m, q: r.q, clicks: r.clicks, exposures: r.exposures };
};

/** Reads and writes posteriors in the state store (batched: one getMany for many items). */
export class PosteriorStore {
  constructor(
    readonly state: StateStore,
    readonly prior: LogisticPrior = DEFAULT_PRIOR,
  ) {}

  newSlope(): Effect {
    return newEffect(this.prior.aMean, this.prior.aPrecision);
  }
  newGroup(): Effect {
    return newEffect(0, this.prior.groupPrecision);
  }
  newItem(group: string): ItemRecord {
    return { ...newEffect(0, this.prior.itemPrecision), group, updatedAt: 0 };
  }

  /** One pipelined read of the slope, the groups and the items (missing ones come back as priors / null). */
  async read(itemIds: string[], groups: string[]): Promise<PosteriorSnapshot> {
    const g = [...new Set(groups.map((x) => x || NO_GROUP))];
    const keys = [slatesKeys.slope(), ...g.map(slatesKeys.group), ...itemIds.map(slatesKeys.item)];
    const vals = await this.state.getMany(keys);
    const slope = effectOf(vals[0]) ?? this.newSlope();
    const groupMap = new Map<string, Effect>();
    g.forEach((name, k) => groupMap.set(name, effectOf(vals[1 + k]) ?? this.newGroup()));
    const items = new Map<string, ItemRecord | null>();
    itemIds.forEach((id, k) => {
      const v = vals[1 + g.length + k];
      items.set(id, v ? decodeRecord(v) : null);
    });
    return { slope, groups: groupMap, items };
  }

  /** The candidates' posteriors in one batched read (one MGET on Redis: every key carries the `{slates}` hash tag), as typed arrays. */
  async readForSlate(itemIds: readonly string[], groupOfCandidate: readonly (string | undefined)[]): Promise<SlateSnapshot> {
    const n = itemIds.length;
    const index = new Map<string, number>();
    const groupNames: string[] = [];
    const groupOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const name = groupOfCandidate[i] || NO_GROUP;
      let k = index.get(name);
      if (k === undefined) {
        k = groupNames.length;
        index.set(name, k);
        groupNames.push(name);
      }
      groupOf[i] = k;
    }
    const G = groupNames.length;
    const keys = new Array<string>(1 + G + n);
    keys[0] = slatesKeys.slope();
    for (let k = 0; k < G; k++) keys[1 + k] = slatesKeys.group(groupNames[k]);
    for (let i = 0; i < n; i++) keys[1 + G + i] = slatesKeys.item(itemIds[i]);
    const vals = await this.state.getMany(keys);
    const slope = effectOf(vals[0]) ?? this.newSlope();
    const groupM = new Float64Array(G);
    const groupQ = new Float64Array(G).fill(this.prior.groupPrecision);
    const groupClicks = new Float64Array(G);
    const groupExposures = new Float64Array(G);
    for (let k = 0; k < G; k++) {
      const b = vals[1 + k];
      if (b) readInto(b, k, groupM, groupQ, groupClicks, groupExposures);
    }
    const itemM = new Float64Array(n);
    const itemQ = new Float64Array(n).fill(this.prior.itemPrecision);
    const itemClicks = new Float64Array(n);
    const itemExposures = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const b = vals[1 + G + i];
      if (b) readInto(b, i, itemM, itemQ, itemClicks, itemExposures);
    }
    return { slope, groupNames, groupM, groupQ, groupClicks, groupExposures, groupOf, itemM, itemQ, itemClicks, itemExposures };
  }
}

function readInto(b: Buffer, k: number, m: Float64Array, q: Float64Array, clicks: Float64Array, exposures: Float64Array) {
  if (b[0] === VERSION && b.length >= HEAD) {
    m[k] = b.readDoubleLE(1);
    q[k] = b.readDoubleLE(9);
    clicks[k] = b.readDoubleLE(17);
    exposures[k] = b.readDoubleLE(25);
    return;
  }
  const r = decodeRecord(b);
  m[k] = r.m;
  q[k] = r.q;
  clicks[k] = r.clicks;
  exposures[k] = r.exposures;
}
