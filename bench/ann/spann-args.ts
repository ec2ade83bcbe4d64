import { cli, int, list, names, num, UsageError } from '../common/cli';

/** Command line of `npm run bench:ann:spann -- ...` (see bench/ann/README.md, "SPANN: warm and cold cache"). */
export interface SpannBenchArgs {
  base?: string;
  query?: string;
  gt?: string;
  synthetic?: { n: number; dim: number };
  queries: number;
  clusters?: number;
  name?: string;
  out: string;
  k: number;
  /** Fraction of the queries held out for tuning (the first ones); the rest are reported. */
  valFraction: number;
  /** SPANN maxLists swept on the reported queries (warm and cold). */
  probes: number[];
  /** Recall the tuned operating point aims at on the validation queries. */
  targetRecall: number;
  /** Reader modes of the warm and the cold sweeps. */
  warmIo: Array<'mmap' | 'uring' | 'pread'>;
  coldIo: Array<'mmap' | 'uring' | 'pread'>;
  /** Cold modes: cold = dropped before each timed pass, cold-query = before every query. */
  coldModes: Array<'cold' | 'cold-query'>;
  peers: Array<'faiss' | 'diskann'>;
  nlists?: number[];
  nprobes: number[];
  diskannR: number;
  diskannL: number;
  diskannLs: number[];
  beams: number[];
  memoryFraction: number;
  python: string;
  cache: string;
  runs: number;
  minQueries: number;
  prepareOnly: boolean;
  seed: number;
  buildThreads: number;
}

const USAGE = `usage: npm run bench:ann:spann -- (--base FILE --query FILE [--gt FILE] | --synthetic N,DIM [--queries 2000] [--clusters C])
  --out bench/results/ann-NAME-spann.json [--name NAME] [--k 10] [--val-fraction 0.5] [--target-recall 0.9]
  [--probes 1,2,3,4,6,8,10,12,16,24,32] [--warm-io mmap,pread] [--cold-io uring,mmap] [--cold-modes cold,cold-query]
  [--peers faiss,diskann] [--nlists A,B,..] [--nprobes 1,2,..] [--diskann-r 64 --diskann-l 100] [--diskann-ls 10,..] [--beams 2,4]
  [--memory-fraction 0.25] [--python bench/.venv-spann/bin/python] [--cache /tmp/spann-bench] [--runs 3] [--min-queries 1000]
  [--prepare-only] [--build-threads 2] [--seed 42]`;

const OPTIONS = {
  base: { type: 'string' },
  query: { type: 'string' },
  gt: { type: 'string' },
  synthetic: { type: 'string' },
  queries: { type: 'string' },
  clusters: { type: 'string' },
  name: { type: 'string' },
  out: { type: 'string' },
  k: { type: 'string' },
  'val-fraction': { type: 'string' },
  probes: { type: 'string' },
  'target-recall': { type: 'string' },
  'warm-io': { type: 'string' },
  'cold-io': { type: 'string' },
  'cold-modes': { type: 'string' },
  peers: { type: 'string' },
  nlists: { type: 'string' },
  nprobes: { type: 'string' },
  'diskann-r': { type: 'string' },
  'diskann-l': { type: 'string' },
  'diskann-ls': { type: 'string' },
  beams: { type: 'string' },
  'memory-fraction': { type: 'string' },
  python: { type: 'string' },
  cache: { type: 'string' },
  runs: { type: 'string' },
  'min-queries': { type: 'string' },
  'prepare-only': { type: 'boolean' },
  seed: { type: 'string' },
  'build-threads': { type: 'string' },
} as const;

const IO = ['mmap', 'uring', 'pread'] as const;

export function parseSpannArgs(argv: string[]): SpannBenchArgs {
  const v = cli(argv, OPTIONS, USAGE);
  let synthetic: SpannBenchArgs['synthetic'];
  if (v.synthetic !== undefined) {
    const [n, dim] = v.synthetic.split(',');
    synthetic = { n: int(n, '--synthetic N'), dim: int(dim, '--synthetic DIM') };
  }
  const a: SpannBenchArgs = {
    base: v.base,
    query: v.query,
    gt: v.gt,
    synthetic,
    queries: int(v.queries, '--queries', 2000),
    clusters: v.clusters === undefined ? undefined : int(v.clusters, '--clusters'),
    name: v.name,
    out: v.out ?? '',
    k: int(v.k, '--k', 10),
    valFraction: num(v['val-fraction'], '--val-fraction', 0.5),
    probes: list(v.probes, '--probes', [1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 32]),
    targetRecall: num(v['target-recall'], '--target-recall', 0.9),
    warmIo: names(v['warm-io'], '--warm-io', IO, ['mmap', 'pread']),
    coldIo: names(v['cold-io'], '--cold-io', IO, ['uring', 'mmap']),
    coldModes: names(v['cold-modes'], '--cold-modes', ['cold', 'cold-query'] as const, ['cold', 'cold-query']),
    peers: names(v.peers, '--peers', ['faiss', 'diskann'] as const, ['faiss', 'diskann']),
    nlists: v.nlists === undefined ? undefined : list(v.nlists, '--nlists', []),
    nprobes: list(v.nprobes, '--nprobes', [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]),
    diskannR: int(v['diskann-r'], '--diskann-r', 64),
    diskannL: int(v['diskann-l'], '--diskann-l', 100),
    diskannLs: list(v['diskann-ls'], '--diskann-ls', [10, 15, 20, 30, 40, 60, 80, 120]),
    beams: list(v.beams, '--beams', [2, 4]),
    memoryFraction: num(v['memory-fraction'], '--memory-fraction', 0.25),
    python: v.python ?? process.env.BENCH_PYTHON ?? 'bench/.venv-spann/bin/python',
    cache: v.cache ?? '/tmp/spann-bench',
    runs: int(v.runs, '--runs', 3),
    minQueries: int(v['min-queries'], '--min-queries', 1000),
    prepareOnly: v['prepare-only'] ?? false,
    seed: int(v.seed, '--seed', 42),
    buildThreads: int(v['build-threads'], '--build-threads', 2),
  };
  if (!a.out && !a.prepareOnly) throw new UsageError(`--out is required\n${USAGE}`);
  if ((a.base === undefined) === (a.synthetic === undefined)) throw new UsageError(`give either --base/--query or --synthetic\n${USAGE}`);
  if (a.base !== undefined && a.query === undefined) throw new UsageError(`--base needs --query\n${USAGE}`);
  if (!(a.valFraction > 0 && a.valFraction < 1)) throw new UsageError('--val-fraction must be in (0, 1)');
  return a;
}
