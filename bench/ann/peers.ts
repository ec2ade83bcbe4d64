import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { BenchArgs } from './args';
import type { BenchResult } from './measure';

export interface PeersOutput {
  python: string;
  versions: Record<string, string>;
  results: BenchResult[];
}

/**
 * Runs bench/ann/peers.py (Python hnswlib + faiss IVF-Flat) on the same files and parses its JSON.
 * The Node process is idle meanwhile, so the two sides never compete for the cores. Progress
 * lines from the script (stderr) are passed through.
 */
export async function runPeers(a: BenchArgs, files: { base: string; query: string; gt: string }, nlist: number): Promise<PeersOutput> {
  if (!existsSync(a.python)) {
    throw new Error(`python ${a.python} not found: create it with "python3 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/ann/requirements.txt" or pass --python / --skip-peers`);
  }
  const args = [
    'bench/ann/peers.py',
    '--base', files.base,
    '--query', files.query,
    '--gt', files.gt,
    '--k', String(a.k),
    '--m', String(a.m),
    '--ef-construction', String(a.efConstruction),
    '--efs', a.efs.join(','),
    '--nprobes', a.nprobes.join(','),
    '--nlist', String(nlist),
    '--seed', String(a.seed),
    '--runs', String(a.runs),
    '--min-queries', String(a.minQueries),
    '--only', a.peers.join(','),
  ];
  // One thread for BLAS/OpenMP inside faiss and numpy: queries are measured single-threaded.
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const child = spawn(a.python, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c) => res(c ?? 1));
  });
  if (code !== 0) throw new Error(`peers.py exited with ${code}`);
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as PeersOutput;
}
