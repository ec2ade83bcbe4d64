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

const parse = <T>(b: Buffer | null): T | null => (b ? (JSON.parse(b.toString('utf8')) as T) : null);

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
    const slope = parse<Effect>(vals[0]) ?? this.newSlope();
    const groupMap = new Map<string, Effect>();
    g.forEach((name, k) => groupMap.set(name, parse<Effect>(vals[1 + k]) ?? this.newGroup()));
    const items = new Map<string, ItemRecord | null>();
    itemIds.forEach((id, k) => items.set(id, parse<ItemRecord>(vals[1 + g.length + k])));
    return { slope, groups: groupMap, items };
  }
}

export const encode = (x: unknown) => JSON.stringify(x);
