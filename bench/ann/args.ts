import type { HnswEngineName } from '@recsys/ann/hnsw.index';
import { cli, int, list, names, UsageError } from '../common/cli';

/** Peers run by peers.py (Python) and in this process (usearch from npm). */
export const PYTHON_PEERS = ['hnswlib', 'faiss-hnsw', 'usearch', 'scann', 'faiss'] as const;
export const ALL_PEERS = [...PYTHON_PEERS, 'usearch-npm'] as const;
export type PeerName = (typeof ALL_PEERS)[number];

/** Command line of `npm run bench:ann -- ...` (see bench/ann/README.md). */
export interface BenchArgs {
  base?: string;
  query?: string;
  gt?: string;
  synthetic?: { n: number; dim: number };
  /** Queries generated for --synthetic. */
  queries: number;
  /** Synthetic mixture clusters (default ~ sqrt(n)/2, at least 16). */
  clusters?: number;
  k: number;
  out: string;
  /** HNSW build grid (every HNSW implementation is built for each M x efConstruction); m / efConstruction are the first values. */
  ms: number[];
  efConstructions: number[];
  m: number;
  efConstruction: number;
  efs: number[];
  /** ScaNN: num_leaves values (default round(sqrt(n))), leaves_to_search and pre-reorder sweeps. */
  scannLeaves?: number[];
  scannSearch: number[];
  scannReorder: number[];
  /** Directory where built peer indexes (and ours) are kept and reused across runs. */
  cache?: string;
  /** Threads for the peers' builds and usearch-npm's (queries always run on one thread; our build is single-threaded). */
  buildThreads: number;
  /**
   * Python hnswlib loads the graph our native engine built (same hnswlib 0.8.0 code, seed and
   * insertion order: the same graph) and usearch-python the one usearch-npm built (same core
   * version), instead of building them again: halves the build time of a large run.
   */
  shareBuilds: boolean;
  /** Lock file held (flock) during the timed rounds only, not during builds. */
  benchLock?: string;
  /** HNSW engines to measure (default both: the native addon and hnswlib-node). */
  hnswEngines: HnswEngineName[];
  /** SPANN per-query probe limits (maxLists). */
  probes: number[];
  /** faiss IVF nprobe sweep. */
  nprobes: number[];
  /** faiss nlist (default round(4 * sqrt(n))). */
  nlist?: number;
  skipPeers: boolean;
  /** Which peers to run (default all: hnswlib, faiss-hnsw, usearch, scann, faiss (IVF-Flat), usearch-npm). */
  peers: PeerName[];
  skipExact: boolean;
  spann: boolean;
  python: string;
  seed: number;
  name?: string;
  /** Timed runs per setting (best kept) and minimum timed queries per run (query set repeated). */
  runs: number;
  minQueries: number;
}

const USAGE = `usage: npm run bench:ann -- (--base FILE --query FILE [--gt FILE] | --synthetic N,DIM [--queries 1000])
  [--k 10] --out FILE.json [--m 16[,32]] [--ef-construction 200[,400]] [--efs 10,20,40,80,160] [--hnsw-engines native,hnswlib-node]
  [--probes 1,2,4,8,16,32,64] [--nprobes 1,2,4,8,16,32,64,128] [--nlist N] [--clusters C]
  [--scann-leaves L] [--scann-search 1,2,4,...,256] [--scann-reorder 20,50,100,200]
  [--skip-peers] [--peers hnswlib,faiss-hnsw,usearch,usearch-npm,scann,faiss] [--skip-exact] [--no-spann] [--python bench/.venv/bin/python]
  [--seed 42] [--name LABEL] [--runs 3] [--min-queries 1000] [--cache DIR] [--bench-lock /tmp/recsys-bench.lock]
  [--build-threads 1] [--share-builds]`;

const OPTIONS = {
  base: { type: 'string' },
  query: { type: 'string' },
  gt: { type: 'string' },
  synthetic: { type: 'string' },
  queries: { type: 'string' },
  clusters: { type: 'string' },
  k: { type: 'string' },
  out: { type: 'string' },
  m: { type: 'string' },
  'ef-construction': { type: 'string' },
  efs: { type: 'string' },
  'hnsw-engines': { type: 'string' },
  probes: { type: 'string' },
  'scann-leaves': { type: 'string' },
  'scann-search': { type: 'string' },
  'scann-reorder': { type: 'string' },
  cache: { type: 'string' },
  'build-threads': { type: 'string' },
  'share-builds': { type: 'boolean' },
  'bench-lock': { type: 'string' },
  nprobes: { type: 'string' },
  nlist: { type: 'string' },
  'skip-peers': { type: 'boolean' },
  peers: { type: 'string' },
  'skip-exact': { type: 'boolean' },
  spann: { type: 'boolean' },
  'no-spann': { type: 'boolean' },
  python: { type: 'string' },
  seed: { type: 'string' },
  name: { type: 'string' },
  runs: { type: 'string' },
  'min-queries': { type: 'string' },
} as const;

export function parseArgs(argv: string[]): BenchArgs {
  const v = cli(argv, OPTIONS, USAGE);
  let synthetic: BenchArgs['synthetic'];
  if (v.synthetic !== undefined) {
    const [n, dim] = v.synthetic.split(',');
    synthetic = { n: int(n, '--synthetic N'), dim: int(dim, '--synthetic DIM') };
  }
  const a: BenchArgs = {
    base: v.base,
    query: v.query,
    gt: v.gt,
    synthetic,
    queries: int(v.queries, '--queries', 1000),
    clusters: v.clusters === undefined ? undefined : int(v.clusters, '--clusters'),
    k: int(v.k, '--k', 10),
    out: v.out ?? '',
    ms: list(v.m, '--m', [16]),
    efConstructions: list(v['ef-construction'], '--ef-construction', [200]),
    m: 0,
    efConstruction: 0,
    efs: list(v.efs, '--efs', [10, 20, 40, 80, 160]),
    hnswEngines: names(v['hnsw-engines'], '--hnsw-engines', ['native', 'hnswlib-node'] as const, ['native', 'hnswlib-node']),
    probes: list(v.probes, '--probes', [1, 2, 4, 8, 16, 32, 64]),
    nprobes: list(v.nprobes, '--nprobes', [1, 2, 4, 8, 16, 32, 64, 128]),
    nlist: v.nlist === undefined ? undefined : int(v.nlist, '--nlist'),
    skipPeers: v['skip-peers'] ?? false,
    peers: names(v.peers, '--peers', ALL_PEERS, [...ALL_PEERS]),
    scannLeaves: v['scann-leaves'] === undefined ? undefined : list(v['scann-leaves'], '--scann-leaves', []),
    scannSearch: list(v['scann-search'], '--scann-search', [1, 2, 4, 8, 16, 32, 64, 128, 256]),
    scannReorder: list(v['scann-reorder'], '--scann-reorder', [20, 50, 100, 200]),
    cache: v.cache,
    buildThreads: int(v['build-threads'], '--build-threads', 1),
    shareBuilds: v['share-builds'] ?? false,
    benchLock: v['bench-lock'],
    skipExact: v['skip-exact'] ?? false,
    spann: !(v['no-spann'] ?? false),
    python: v.python ?? process.env.BENCH_PYTHON ?? 'bench/.venv/bin/python',
    seed: int(v.seed, '--seed', 42),
    name: v.name,
    runs: int(v.runs, '--runs', 3),
    minQueries: int(v['min-queries'], '--min-queries', 1000),
  };
  a.m = a.ms[0];
  a.efConstruction = a.efConstructions[0];
  if (a.ms.some((m) => !Number.isInteger(m) || m < 2)) throw new UsageError('--m: integers >= 2');
  if (!a.out) throw new UsageError(`--out is required\n${USAGE}`);
  if ((a.base === undefined) === (a.synthetic === undefined)) throw new UsageError(`give either --base/--query or --synthetic\n${USAGE}`);
  if (a.base !== undefined && a.query === undefined) throw new UsageError(`--base needs --query\n${USAGE}`);
  if (a.skipExact && a.gt === undefined) throw new UsageError('--skip-exact needs --gt (the exact index computes the ground truth otherwise)');
  return a;
}
