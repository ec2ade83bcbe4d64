import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Metric } from '../vector-index.port';
import { f64, readSections, u32, writeSections } from './binfile';
import { CentroidGraph } from './centroid-graph';
import { IdTable } from './id-table';
import { PostingStore, type PostingTables } from './posting-store';
import type { ValueType } from './records';
import { collectGarbage, META_FILE, POSTINGS_FILE } from './spann.files';
import { newRand, type SpannCore } from './spann.core';
import { resolveParams, type SpannParams } from './spann.params';
import { SimdMemory } from './simd-memory';
import { VectorSpace } from './vector-space';

const GRAPH_FILE = 'spann.centroids';
const IDS_FILE = 'spann.ids';
const LISTS_FILE = 'spann.lists';

interface SpannMeta {
  kind: 'spann';
  version: 1;
  dim: number;
  metric: Metric;
  ipMaxNormSq: number;
  params: SpannParams;
  stats: SpannCore['stats'];
  /** Posting file generation in this directory (absent in older snapshots: spann.postings). */
  postings?: string;
  /** Record value type (absent in older snapshots: f32). */
  valueType?: ValueType;
}

/**
 * Snapshot: meta (JSON, written last, so its presence means the rest is complete), centroid
 * graph, posting table, id tables. Into the index's own directory the posting file is shared in
 * place (its published records are never overwritten, see PostingStore); into another directory
 * a compacted copy of the posting file is written (without tombstoned records). Afterwards the
 * posting files in dir that neither the live index nor this snapshot uses are removed.
 */
export function saveSnapshot(core: SpannCore, dir: string): void {
  const { store, graph, ids, space, params, stats } = core;
  mkdirSync(dir, { recursive: true });
  let tables: PostingTables;
  let postings: string;
  const own = resolve(dir) === resolve(core.dir);
  if (own) {
    store.sync();
    tables = store.tables();
    postings = basename(store.path);
  } else {
    postings = POSTINGS_FILE;
    tables = store.writeCompactCopy(join(dir, postings), { keep: (iid) => !ids.isDead(iid) });
  }
  graph.save(join(dir, GRAPH_FILE));
  ids.save(join(dir, IDS_FILE));
  writeSections(join(dir, LISTS_FILE), [tables.offsets, tables.lengths, tables.capacities, new Float64Array([tables.listCount, tables.fileEnd])]);
  const meta: SpannMeta = { kind: 'spann', version: 1, dim: space.dim, metric: space.metric, ipMaxNormSq: space.ipMaxNormSq, params, stats, postings, valueType: store.valueType };
  const tmp = join(dir, `${META_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(meta));
  renameSync(tmp, join(dir, META_FILE));
  collectGarbage(dir, [postings]);
}

/** Reopens the snapshot last saved into dir; the posting file is used in place. */
export function loadSnapshot(dir: string): SpannCore {
  const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as SpannMeta;
  if (meta.kind !== 'spann' || meta.version !== 1) throw new Error(`${dir}: not a SPANN snapshot`);
  const s = readSections(join(dir, LISTS_FILE));
  const header = f64(s[3]);
  const listCount = header[0];
  // The store grows its tables by doubling: give it headroom.
  const cap = Math.max(64, listCount * 2);
  const tables: PostingTables = {
    offsets: new Float64Array(cap),
    lengths: new Uint32Array(cap),
    capacities: new Uint32Array(cap),
    listCount,
    fileEnd: header[1],
  };
  tables.offsets.set(f64(s[0]));
  tables.lengths.set(u32(s[1]));
  tables.capacities.set(u32(s[2]));
  const params = resolveParams(meta.params);
  const sm = new SimdMemory();
  return {
    dir,
    sm,
    space: new VectorSpace(meta.metric, meta.dim, meta.ipMaxNormSq),
    params,
    graph: CentroidGraph.load(join(dir, GRAPH_FILE), params.seed, sm),
    store: PostingStore.open(join(dir, meta.postings ?? POSTINGS_FILE), meta.dim, meta.valueType ?? 'f32', tables, sm),
    ids: IdTable.load(join(dir, IDS_FILE)),
    stats: meta.stats,
    rand: newRand(params.seed + listCount),
  };
}
