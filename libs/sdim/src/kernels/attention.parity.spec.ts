// Target attention of native/sdim (the benchmark's own kernel) against numpy on one BLAS thread
// (ops/parity/sdim/attention_ref.py), in the venv ops/parity/sdim/setup.sh creates.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { attention } from '@recsys/sdim-native';
import { syntheticUser } from '../synthetic';

const ROOT = resolve(__dirname, '../../../..');
const PY = join(ROOT, '.venv-sdim', 'bin', 'python');
const REF = join(ROOT, 'ops', 'parity', 'sdim', 'attention_ref.py');

function numpyAttention(q: Float32Array, x: Float32Array, d: number): Float32Array {
  if (!existsSync(PY)) throw new Error(`sdim parity venv missing at ${PY}: run bash ops/parity/sdim/setup.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'sdim-parity-'));
  try {
    writeFileSync(join(dir, 'q.f32'), q);
    writeFileSync(join(dir, 'x.f32'), x);
    const args = [REF, '--q', join(dir, 'q.f32'), '--x', join(dir, 'x.f32'), '--n', String(q.length / d), '--L', String(x.length / d), '--d', String(d), '--reps', '1', '--out', join(dir, 'o.f32')];
    const res = JSON.parse(execFileSync(PY, args, { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8' }).trim());
    assert.ok(
      res.blas.every((b: { threads: number }) => b.threads === 1),
      'numpy ran on one BLAS thread',
    );
    const b = readFileSync(join(dir, 'o.f32'));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('native/sdim attention against numpy (ops/parity/sdim)', () => {
  for (const [L, d] of [
    [1, 32],
    [100, 32],
    [1000, 32],
    [777, 64],
    [130, 7],
  ] as const) {
    it(`agrees with numpy within 2e-6 at L=${L}, d=${d}, 50 candidates`, () => {
      const u = syntheticUser({ seed: 31 + L + d, d, length: L, candidates: 50 });
      const q = new Float32Array(50 * d);
      u.candidates.forEach((c, i) => q.set(c, i * d));
      const x = new Float32Array(L * d);
      u.history.forEach((h, j) => x.set(h, j * d));
      const ours = new Float32Array(q.length);
      attention(q, x, d, ours);
      const ref = numpyAttention(q, x, d);
      assert.equal(ref.length, ours.length);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - ours[i]));
      assert.ok(worst < 2e-6, `max |ours - numpy| = ${worst}`);
    });
  }
});
