import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import type { BenchArgs } from './args';
import type { BenchResult } from './measure';

export interface PeersInfo {
  python: string;
  versions: Record<string, string>;
  peers: string[];
}

/**
 * bench/ann/peers.py in --serve mode: it builds Python hnswlib and faiss IVF-Flat on the same
 * files, then answers {"sweep": peer} with one timed run per sweep setting. The harness alternates
 * these sweeps with its own, so both sides are sampled under the same machine load (the machine
 * is shared), and only one side computes at any moment. Progress lines (stderr) pass through.
 */
export class PeerServer {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  private readonly exited: Promise<number>;

  private constructor(python: string, args: string[]) {
    // One thread for BLAS/OpenMP inside faiss and numpy: queries are measured single-threaded.
    const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    this.child = spawn(python, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (l) => this.pending.shift()?.(l));
    this.exited = new Promise((res) => this.child.on('close', (c) => res(c ?? 1)));
    this.exited.then((code) => {
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: `peers.py exited with ${code}` }));
    });
  }

  static async start(a: BenchArgs, files: { base: string; query: string; gt: string }, nlist: number): Promise<{ server: PeerServer; info: PeersInfo }> {
    if (!existsSync(a.python)) {
      throw new Error(`python ${a.python} not found: create it with "python3 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/ann/requirements.txt" or pass --python / --skip-peers`);
    }
    const args = [
      'bench/ann/peers.py',
      '--serve',
      '--base',
      files.base,
      '--query',
      files.query,
      '--gt',
      files.gt,
      '--k',
      String(a.k),
      '--m',
      String(a.m),
      '--ef-construction',
      String(a.efConstruction),
      '--efs',
      a.efs.join(','),
      '--nprobes',
      a.nprobes.join(','),
      '--nlist',
      String(nlist),
      '--seed',
      String(a.seed),
      '--min-queries',
      String(a.minQueries),
      '--only',
      a.peers.join(','),
    ];
    const server = new PeerServer(a.python, args);
    const ready = await server.next<PeersInfo & { ready?: boolean }>();
    if (!ready.ready) throw new Error(`peers.py did not start: ${JSON.stringify(ready)}`);
    return { server, info: { python: ready.python, versions: ready.versions, peers: ready.peers } };
  }

  /** One timed run per setting of a peer's sweep. */
  async sweep(peer: string): Promise<BenchResult[]> {
    const reply = this.next<{ results?: BenchResult[]; error?: string }>();
    this.child.stdin.write(JSON.stringify({ sweep: peer }) + '\n');
    const r = await reply;
    if (!r.results) throw new Error(`peers.py: ${r.error ?? 'no results'}`);
    return r.results;
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const code = await this.exited;
    this.lines.close();
    if (code !== 0) throw new Error(`peers.py exited with ${code}`);
  }

  private next<T>(): Promise<T> {
    return new Promise((res, rej) =>
      this.pending.push((line) => {
        try {
          res(JSON.parse(line) as T);
        } catch {
          rej(new Error(`peers.py printed a non-JSON line: ${line.slice(0, 200)}`));
        }
      }),
    );
  }
}
