import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ValueType } from './records';
import type { SpannCore } from './spann.core';

/**
 * Posting file generations and garbage collection inside an index directory.
 *
 * The live index appends to one posting file (copy-on-write, see PostingStore). A compaction or
 * a value-type conversion writes the next generation (`spann.postings`, `spann.postings.1`, ...)
 * and switches to it. A snapshot saved into the directory records which generation it uses, so
 * the files worth keeping are exactly the live one and the snapshot's; every other generation
 * (and any temp file left by a crash) is superseded and removed.
 */
export const POSTINGS_FILE = 'spann.postings';
export const META_FILE = 'spann.meta.json';

export function postingsName(gen: number): string {
  return gen === 0 ? POSTINGS_FILE : `${POSTINGS_FILE}.${gen}`;
}

export function generationOf(name: string): number {
  const m = /^spann\.postings(?:\.(\d+))?$/.exec(name);
  if (!m) throw new Error(`not a posting file name: ${name}`);
  return m[1] === undefined ? 0 : Number(m[1]);
}

/** The posting file the snapshot saved in dir uses, or null when dir holds no snapshot. */
export function snapshotPostings(dir: string): string | null {
  try {
    const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as { postings?: string };
    return meta.postings ?? POSTINGS_FILE;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Deletes the posting files and temp files in dir that are not named in keep; returns what it removed. */
export function collectGarbage(dir: string, keep: Array<string | null>): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const isPostings = /^spann\.postings(\.\d+)?$/.test(name);
    const isTemp = name.startsWith('spann.') && name.endsWith('.tmp');
    if ((isPostings && !keep.includes(name)) || isTemp) {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Rewrites the live posting file as the next generation: lists contiguous, tombstoned records
 * dropped, records re-encoded when valueType differs; then switches the store to it and
 * removes superseded generations (the snapshot's file in the directory stays).
 */
export function rewritePostings(core: SpannCore, valueType: ValueType = core.store.valueType): void {
  const { store, ids, graph } = core;
  const next = postingsName(generationOf(basename(store.path)) + 1);
  const path = join(core.dir, next);
  const t = store.writeCompactCopy(path, { valueType, keep: (iid) => !ids.isDead(iid) });
  store.switchTo(path, valueType, t);
  graph.enableU8Routing(valueType === 'u8' && core.space.metric === 'l2');
  for (let l = 0; l < t.listCount; l++) if (t.lengths[l] === 0 && graph.hasLabel(l)) graph.retire(l);
  core.stats.compactions = (core.stats.compactions ?? 0) + 1;
  collectGarbage(core.dir, [next, snapshotPostings(core.dir)]);
}

/** Compaction trigger: the file is over 32 MiB and more than 3x the records it holds. */
export function needsCompaction(core: SpannCore): boolean {
  const s = core.store;
  return s.fileEnd > 32 * 2 ** 20 && s.fileEnd > 3 * s.liveBytes();
}
