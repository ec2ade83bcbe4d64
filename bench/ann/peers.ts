import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { Index as UsearchIndex, MetricKind, ScalarKind, type Matches } from 'usearch';
import type { FloatVectors } from '@recsys/ann/io/texmex';
import { PYTHON_PEERS, type BenchArgs } from './args';
import { gc, rss, type BenchResult } from './measure';

export interface PeersInfo {
  python: string;
  versions: Record<string, string>;
  peers: string[];
  /** Median µs of one trivial call (16-point index) through each Python peer's API, and of an empty loop body. */
  overheadUs: Record<string, number>;
  /** SIMD level each peer reports (usearch's hardware_acceleration). */
  hardware: Record<string, string>;
}

/**
 * usearch from npm (2.26.x) in this Node process: built once per (connectivity, expansion_add) with
 * one thread, saved to a file, and reloaded with the expansion_search of each sweep setting (the npm
 * Index has no setter for it; load() restores the graph and keeps the constructor's expansion_search).
 * Queries go through the public Index.search(query, k, 1): one N-API call that allocates the
 * result arrays and wraps them in a Matches object.
 */
export class UsearchNpmPeer {
  private current: { ef: number; index: UsearchIndex } | null = null;

  private constructor(
    readonly dim: number,
    readonly m: number,
    readonly efConstruction: number,
    readonly file: string,
    readonly buildSeconds: number,
    readonly rssDeltaBytes: number,
    readonly cached: boolean,
  ) {}

  /** Builds (or, when `file` and its sidecar exist, loads) the index over base, ids = row numbers. */
  static build(base: FloatVectors, m: number, efConstruction: number, file: string, threads = 1): UsearchNpmPeer {
    const meta = `${file}.json`;
    if (existsSync(file) && existsSync(meta)) {
      const b = JSON.parse(readFileSync(meta, 'utf8')) as { buildSeconds: number; rssDeltaBytes: number };
      return new UsearchNpmPeer(base.dim, m, efConstruction, file, b.buildSeconds, b.rssDeltaBytes, true);
    }
    const r0 = rss();
    const t0 = process.hrtime.bigint();
    const index = new UsearchIndex({ dimensions: base.dim, metric: MetricKind.L2sq, quantization: ScalarKind.F32, multi: false, connectivity: m, expansion_add: efConstruction, expansion_search: 64 });
    const keys = new BigUint64Array(base.count);
    for (let i = 0; i < base.count; i++) keys[i] = BigInt(i);
    index.add(keys, base.data, threads);
    const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssDeltaBytes = rss() - r0;
    index.save(file);
    writeFileSync(meta, JSON.stringify({ buildSeconds, rssDeltaBytes }));
    return new UsearchNpmPeer(base.dim, m, efConstruction, file, buildSeconds, rssDeltaBytes, false);
  }

  /** The index with expansion_search = ef (reloaded from the file when ef changes; the previous copy is released first). */
  withEf(ef: number): UsearchIndex {
    if (this.current?.ef === ef) return this.current.index;
    this.current = null;
    gc();
    const index = new UsearchIndex({
      dimensions: this.dim,
      metric: MetricKind.L2sq,
      quantization: ScalarKind.F32,
      multi: false,
      connectivity: this.m,
      expansion_add: this.efConstruction,
      expansion_search: ef,
    });
    index.load(this.file);
    this.current = { ef, index };
    return index;
  }

  release(): void {
    this.current = null;
    gc();
  }

  /** The serialized index (vectors + graph), what usearch keeps resident after load(). */
  memoryBytes(): number {
    return statSync(this.file).size;
  }

  static ids(m: Matches): Int32Array {
    const out = new Int32Array(m.keys.length);
    for (let i = 0; i < out.length; i++) out[i] = Number(m.keys[i]);
    return out;
  }

  static hardware(): string {
    try {
      const root = join(dirname(require.resolve('usearch')), '..', '..', '..');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled addon's build facts are not exported by the package
      const b = require('node-gyp-build')(root) as { hardwareAccelerationAvailable?: () => string };
      return b.hardwareAccelerationAvailable?.() ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }
}

/**
 * bench/ann/peers.py in --serve mode: it builds the Python peers (hnswlib, faiss IndexHNSWFlat,
 * usearch, ScaNN, faiss IVF-Flat) on the same files, then answers {"sweep": peer} with one timed
 * run per sweep setting of every build of that peer. The harness alternates
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

  static async start(a: BenchArgs, files: { base: string; query: string; gt: string }, nlist: number, cacheKey: string, shared: string[] = []): Promise<{ server: PeerServer; info: PeersInfo }> {
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
      a.ms.join(','),
      '--ef-construction',
      a.efConstructions.join(','),
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
      a.peers.filter((p) => (PYTHON_PEERS as readonly string[]).includes(p)).join(','),
      ...(a.scannLeaves ? ['--scann-leaves', a.scannLeaves.join(',')] : []),
      '--scann-search',
      a.scannSearch.join(','),
      '--scann-reorder',
      a.scannReorder.join(','),
      ...(a.cache ? ['--cache', a.cache, '--cache-key', cacheKey] : []),
      '--build-threads',
      String(a.buildThreads),
      ...(shared.length ? ['--shared', shared.join(',')] : []),
    ];
    const server = new PeerServer(a.python, args);
    const ready = await server.next<PeersInfo & { ready?: boolean }>();
    if (!ready.ready) throw new Error(`peers.py did not start: ${JSON.stringify(ready)}`);
    return { server, info: { python: ready.python, versions: ready.versions, peers: ready.peers, overheadUs: ready.overheadUs, hardware: ready.hardware } };
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
