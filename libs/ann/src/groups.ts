import type { SearchFilter } from './vector-index.port';

/** Code stored for an item that has no group: never matches a groups filter. */
export const NO_GROUP = -1;

/**
 * Interns group names into small integer codes, so a per-slot Int32Array can hold every item's
 * group and a filter becomes one typed-array lookup per candidate. Counts per code let a search
 * estimate how many items a filter lets through before choosing a strategy.
 */
export class GroupCodes {
  private readonly codeByName = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly counts: number[] = [];

  /** The code of name, interning it if new. */
  intern(name: string): number {
    let c = this.codeByName.get(name);
    if (c === undefined) {
      c = this.names.length;
      this.codeByName.set(name, c);
      this.names.push(name);
      this.counts.push(0);
    }
    return c;
  }

  lookup(name: string): number | undefined {
    return this.codeByName.get(name);
  }

  name(code: number): string | undefined {
    return code === NO_GROUP ? undefined : this.names[code];
  }

  get size(): number {
    return this.names.length;
  }

  add(code: number, delta: number): void {
    if (code !== NO_GROUP) this.counts[code] += delta;
  }

  count(code: number): number {
    return code === NO_GROUP ? 0 : this.counts[code];
  }

  allNames(): string[] {
    return this.names.slice();
  }

  /** Rough heap bytes of the table (names and map entries). */
  memoryBytes(): number {
    let b = 0;
    for (const n of this.names) b += 2 * n.length + 64;
    return b;
  }
}

/** A filter resolved against one index's tables. */
export interface CompiledFilter {
  /** allowed[code] === 1 when the group passes; null when there is no groups filter. */
  allowedGroups: Uint8Array | null;
  /** Excluded slots/labels present in the index; null when none. */
  excluded: Set<number> | null;
  /** Upper bound on the number of live items that pass. */
  passUpperBound: number;
}

/**
 * Resolves group names to codes and excluded ids to slots. Unknown groups and ids are ignored
 * (an unknown group admits nothing; an unknown excluded id excludes nothing).
 */
export function compileFilter(filter: SearchFilter | undefined, groups: GroupCodes, slotOf: (id: string) => number | undefined, liveCount: number): CompiledFilter {
  let allowedGroups: Uint8Array | null = null;
  let bound = liveCount;
  if (filter?.groups !== undefined) {
    allowedGroups = new Uint8Array(Math.max(1, groups.size));
    bound = 0;
    for (const g of filter.groups) {
      const c = groups.lookup(g);
      if (c !== undefined && allowedGroups[c] === 0) {
        allowedGroups[c] = 1;
        bound += groups.count(c);
      }
    }
  }
  let excluded: Set<number> | null = null;
  if (filter?.excludeIds !== undefined) {
    for (const id of filter.excludeIds) {
      const s = slotOf(id);
      if (s === undefined) continue;
      if (excluded === null) excluded = new Set<number>();
      excluded.add(s);
    }
  }
  return { allowedGroups, excluded, passUpperBound: bound };
}

/** Whether the item at slot (with group code) passes a compiled filter. */
export function passes(f: CompiledFilter, slot: number, code: number): boolean {
  if (f.allowedGroups !== null && (code === NO_GROUP || f.allowedGroups[code] !== 1)) return false;
  return f.excluded === null || !f.excluded.has(slot);
}

/** Rough heap bytes of an id <-> slot table with count ids totalling idChars characters. */
export function idTableBytes(count: number, idChars: number): number {
  // string header ~16 B + 1-2 B per char; Map entry ~40 B; array slot 8 B.
  return count * (16 + 40 + 8) + idChars * 2;
}
