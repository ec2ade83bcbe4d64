import type { HnswEngineName } from '@recsys/ann/hnsw.index';
import { cli, int, list, names, UsageError } from '../common/cli';

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
  m: number;
  efConstruction: number;
  efs: number[];
  /** HNSW engines to measure (default both: the native addon and hnswlib-node). */
  hnswEngines: HnswEngineName[];
  /** SPANN per-query probe limits (maxLists). */
  probes: number[];
  /** faiss IVF nprobe sweep. */
  nprobes: number[];
  /** faiss nlist (default round(4 * sqrt(n))). */
  nlist?: number;
  skipPeers: boolean;
  /** Which Python peers to run (default both). */
  peers: string[];
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
  [--k 10] --out FILE.json [--m 16] [--ef-construction 200] [--efs 10,20,40,80,160] [--hnsw-engines native,hnswlib-node]
  [--probes 1,2,4,8,16,32,64] [--nprobes 1,2,4,8,16,32,64,128] [--nlist N] [--clusters C]
  [--skip-peers] [--peers hnswlib,faiss] [--skip-exact] [--no-spann] [--python bench/.venv/bin/python] [--seed 42] [--name LABEL]
  [--runs 3] [--min-queries 1000]`;

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
    m: int(v.m, '--m', 16),
    efConstruction: int(v['ef-construction'], '--ef-construction', 200),
    efs: list(v.efs, '--efs', [10, 20, 40, 80, 160]),
    hnswEngines: names(v['hnsw-engines'], '--hnsw-engines', ['native', 'hnswlib-node'] as const, ['native', 'hnswlib-node']),
    probes: list(v.probes, '--probes', [1, 2, 4, 8, 16, 32, 64]),
    nprobes: list(v.nprobes, '--nprobes', [1, 2, 4, 8, 16, 32, 64, 128]),
    nlist: v.nlist === undefined ? undefined : int(v.nlist, '--nlist'),
    skipPeers: v['skip-peers'] ?? false,
    peers: v.peers === undefined ? ['hnswlib', 'faiss'] : v.peers.split(',').filter((x) => x === 'hnswlib' || x === 'faiss'),
    skipExact: v['skip-exact'] ?? false,
    spann: !(v['no-spann'] ?? false),
    python: v.python ?? process.env.BENCH_PYTHON ?? 'bench/.venv/bin/python',
    seed: int(v.seed, '--seed', 42),
    name: v.name,
    runs: int(v.runs, '--runs', 3),
    minQueries: int(v['min-queries'], '--min-queries', 1000),
  };
  if (!a.out) throw new UsageError(`--out is required\n${USAGE}`);
  if ((a.base === undefined) === (a.synthetic === undefined)) throw new UsageError(`give either --base/--query or --synthetic\n${USAGE}`);
  if (a.base !== undefined && a.query === undefined) throw new UsageError(`--base needs --query\n${USAGE}`);
  if (a.skipExact && a.gt === undefined) throw new UsageError('--skip-exact needs --gt (the exact index computes the ground truth otherwise)');
  return a;
}
