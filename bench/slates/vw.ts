import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { logit } from '@recsys/bandits';
import type { Agent, Stream } from './simulate';
import type { World } from './worlds';

export function vwPython(root: string): string {
  const py = process.env.VW_PYTHON ?? join(root, '.venv-vw', 'bin', 'python');
  if (!existsSync(py)) throw new Error(`Vowpal Wabbit venv missing (${py}): run ops/parity/vw/setup.sh`);
  return py;
}

/** Vowpal Wabbit CCB (`--ccb_explore_adf`, default exploration or `--squarecb`) in a Python child, one round trip per request. */
export class VwAgent implements Agent {
  readonly name: string;
  private proc: ChildProcessWithoutNullStreams;
  private lines: Interface;
  private waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private closing = false;
  private pendingFb: boolean[] | null = null;
  private stderr = '';

  constructor(
    private readonly world: World,
    private readonly stream: Stream,
    variant: 'default' | 'squarecb',
    seed: number,
    python: string,
    script: string,
  ) {
    this.name = variant === 'squarecb' ? 'vw-ccb-squarecb' : 'vw-ccb';
    this.proc = spawn(python, [script, variant, String(seed)], { stdio: 'pipe' });
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (l) => this.waiting.shift()?.resolve(l));
    this.proc.on('exit', (code) => {
      if (this.closing && code === 0) return;
      for (const w of this.waiting.splice(0)) w.reject(new Error(`vw_ccb.py exited ${code}: ${this.stderr}`));
    });
  }

  private ask(msg: unknown): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin.write(`${JSON.stringify(msg)}\n`, (err) => err && reject(new Error(`${err.message}: ${this.stderr}`)));
    });
  }

  async choose(_t: number, c: number, cands: Int32Array): Promise<number[]> {
    const n = this.world.items.length;
    const a = Array.from(cands, (i) => [this.world.items[i], this.world.group[i], Number(logit(this.stream.pctr[c * n + i]).toFixed(4))]);
    const reply = JSON.parse(await this.ask({ fb: this.pendingFb, c, a, k: this.world.slateSize })) as [number, number][];
    return reply.map(([j]) => cands[j]);
  }

  learn(_t: number, _c: number, _cands: Int32Array, _slate: number[], clicks: boolean[]): void {
    this.pendingFb = clicks;
  }

  async close(): Promise<void> {
    this.closing = true;
    const exited = new Promise<number | null>((resolve) => (this.proc.exitCode !== null ? resolve(this.proc.exitCode) : this.proc.once('exit', (code) => resolve(code))));
    this.proc.stdin.end(`${JSON.stringify({ fb: this.pendingFb, end: true })}\n`);
    const code = await exited;
    if (code !== 0) throw new Error(`vw_ccb.py exited ${code}: ${this.stderr}`);
  }
}
