import type { HnswEngineName } from '@recsys/ann/hnsw.index';

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

function list(v: string, flag: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`${flag}: expected a comma-separated list of positive numbers, got "${v}"`);
  return out;
}

function int(v: string | undefined, flag: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got "${v}"`);
  return n;
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = {
    queries: 1000,
    k: 10,
    out: '',
    m: 16,
    efConstruction: 200,
    efs: [10, 20, 40, 80, 160],
    hnswEngines: ['native', 'hnswlib-node'],
    probes: [1, 2, 4, 8, 16, 32, 64],
    nprobes: [1, 2, 4, 8, 16, 32, 64, 128],
    skipPeers: false,
    peers: ['hnswlib', 'faiss'],
    skipExact: false,
    spann: true,
    python: process.env.BENCH_PYTHON ?? 'bench/.venv/bin/python',
    seed: 42,
    runs: 3,
    minQueries: 1000,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--base': a.base = val(); break;
      case '--query': a.query = val(); break;
      case '--gt': a.gt = val(); break;
      case '--synthetic': {
        const [n, dim] = val().split(',');
        a.synthetic = { n: int(n, '--synthetic N'), dim: int(dim, '--synthetic DIM') };
        break;
      }
      case '--queries': a.queries = int(val(), flag); break;
      case '--clusters': a.clusters = int(val(), flag); break;
      case '--k': a.k = int(val(), flag); break;
      case '--out': a.out = val(); break;
      case '--m': a.m = int(val(), flag); break;
      case '--ef-construction': a.efConstruction = int(val(), flag); break;
      case '--efs': a.efs = list(val(), flag); break;
      case '--hnsw-engines': {
        const names = val().split(',').map((x) => x.trim());
        const bad = names.filter((x) => x !== 'native' && x !== 'hnswlib-node');
        if (bad.length > 0 || names.length === 0) throw new Error(`--hnsw-engines: expected native and/or hnswlib-node, got "${names.join(',')}"`);
        a.hnswEngines = names as HnswEngineName[];
        break;
      }
      case '--probes': a.probes = list(val(), flag); break;
      case '--nprobes': a.nprobes = list(val(), flag); break;
      case '--nlist': a.nlist = int(val(), flag); break;
      case '--skip-peers': a.skipPeers = true; break;
      case '--peers': a.peers = val().split(',').filter((x) => x === 'hnswlib' || x === 'faiss'); break;
      case '--skip-exact': a.skipExact = true; break;
      case '--spann': a.spann = true; break;
      case '--no-spann': a.spann = false; break;
      case '--python': a.python = val(); break;
      case '--seed': a.seed = int(val(), flag); break;
      case '--name': a.name = val(); break;
      case '--runs': a.runs = int(val(), flag); break;
      case '--min-queries': a.minQueries = int(val(), flag); break;
      case '--help': case '-h': throw new Error(USAGE);
      default: throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  if (!a.out) throw new Error(`--out is required\n${USAGE}`);
  if ((a.base === undefined) === (a.synthetic === undefined)) throw new Error(`give either --base/--query or --synthetic\n${USAGE}`);
  if (a.base !== undefined && a.query === undefined) throw new Error(`--base needs --query\n${USAGE}`);
  if (a.skipExact && a.gt === undefined) throw new Error('--skip-exact needs --gt (the exact index computes the ground truth otherwise)');
  return a;
}
