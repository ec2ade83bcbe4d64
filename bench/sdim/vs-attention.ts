/**
 * SDIM against an optimised target attention, both served from real Redis (issue 17, part 1).
 *
 * Per history length L, one user with L behaviours (libs/sdim syntheticUser) and B candidates at
 * dimension d, the lengths taking turns request by request:
 *
 * - attention: the user's behaviour sequence from Redis, the last L behaviour embeddings as float32
 *   little-endian rows, in segments of 1,024 rows (`{u:<id>}:seq:f32:<s>`, 128 KB at d = 32; the
 *   writer APPENDs to the newest segment and drops the oldest, as the history segments of
 *   apps/behavior), all read with one MGET and copied into one contiguous array (a view when there
 *   is one segment); the fetch of the same rows as one key (`{u:<id>}:seq:f32`, one GET, a view) is
 *   timed beside, and the baseline takes the faster. Then the kernel: ONNX Runtime (MLAS: Gemm +
 *   Softmax + MatMul, one thread) and our native/sdim blocked kernel (AVX-512, online softmax). The
 *   baseline is the faster at each L. numpy (OpenBLAS, one thread) runs the same inputs as a
 *   cross-check of time and values. Target attention does not depend on the order of the keys, so
 *   neither layout needs reordering.
 * - SDIM: HGETALL of the delta tail and GET of the tables blob in one round trip (what
 *   readUserTables and ranking do), readTables (header check, pending deltas: none here), the
 *   candidates' signatures in one batched kernel (SdimHasher.signaturesRows), the 'pooled' interest
 *   read in place from the blob (interestFromEncodedRows). Also timed with the TypeScript kernels
 *   (setSdimKernels('js')) for the record.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { attention as nativeAttention } from '@recsys/sdim-native';
import {
  BucketTables,
  DEFAULT_NORMALIZATION,
  SdimHasher,
  interestFromEncodedRows,
  readTables,
  sdimKernelInfo,
  sdimTablesKey,
  sdimTailKey,
  seedUserTables,
  setSdimKernels,
  userTag,
  type SdimConfig,
} from '@recsys/sdim';
import { syntheticUser } from '@recsys/sdim/synthetic';
import type { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { median } from '../common/stats';
import { OnnxAttention } from './attention-onnx';
import { syntheticSeed } from './quality';

export interface VsAttentionOptions {
  lengths: number[];
  sdim: SdimConfig;
  candidates: number;
  /** SDIM requests per L (attention: at most 40, 12 at L >= 10,000, 5 at L >= 100,000; see attentionReps). */
  reps: number;
  /** Python with numpy and threadpoolctl (ops/parity/sdim/setup.sh), or null to skip the cross-check. */
  python: string | null;
  log: (msg: string) => void;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

setFlagsFromString('--expose-gc');
/** A full garbage collection between blocks, so that no block pays for the garbage of the one before (the synthetic users, multi-megabyte replies). */
const gc = runInNewContext('gc') as () => void;
const r3 = (x: number) => Number(x.toFixed(3));

/** The behaviour sequence as one key (layout 'single'). */
export const sequenceKey = (userId: string) => `${userTag(userId)}:seq:f32`;
/** Rows per segment of layout 'segments' (128 KB at d = 32). */
export const SEGMENT_ROWS = 1024;
/** Segment s of the behaviour sequence (layout 'segments': the writer appends to the newest segment and drops the oldest). */
export const sequenceSegmentKey = (userId: string, s: number) => `${userTag(userId)}:seq:f32:${s}`;
const segmentKeys = (userId: string, L: number) => Array.from({ length: Math.ceil(L / SEGMENT_ROWS) }, (_, s) => sequenceSegmentKey(userId, s));

/** The sequence from its segments (one MGET): a view when there is one aligned segment, else one copy into a contiguous array. */
function joinSegments(bufs: (Buffer | null)[], L: number, d: number): Float32Array {
  if (bufs.length === 1) return f32View(bufs[0]!);
  const x = new Float32Array(L * d);
  const bytes = new Uint8Array(x.buffer);
  let at = 0;
  for (const b of bufs) {
    bytes.set(b!, at);
    at += b!.length;
  }
  return x;
}

function f32View(buf: Buffer): Float32Array {
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  return new Float32Array(Uint8Array.from(buf).buffer);
}

const attentionReps = (L: number, reps: number) => Math.min(reps, L >= 100_000 ? 5 : L >= 10_000 ? 12 : 40);

interface Prepared {
  L: number;
  userId: string;
  segments: string[];
  cand: Float32Array;
  history: Float32Array;
  tablesBytes: number;
}

async function prepare(store: RedisStateStore, h: SdimHasher, L: number, o: VsAttentionOptions): Promise<Prepared> {
  const d = o.sdim.d;
  const u = syntheticUser({ seed: syntheticSeed(L, 0), d, length: L, candidates: o.candidates });
  const history = new Float32Array(L * d);
  u.history.forEach((x, j) => history.set(x, j * d));
  const cand = new Float32Array(o.candidates * d);
  u.candidates.forEach((x, i) => cand.set(x, i * d));
  const userId = `vsatt-L${L}`;
  const t = new BucketTables(h);
  u.history.forEach((x) => t.add(x));
  await seedUserTables(store, userId, t);
  // The sequence as one binary value (what L SETRANGEs of the ring leave behind).
  const bytes = Buffer.from(history.buffer, history.byteOffset, history.byteLength);
  await store.set(sequenceKey(userId), bytes);
  const rowBytes = d * 4;
  const segs = segmentKeys(userId, L);
  for (let s = 0; s < segs.length; s++) await store.set(segs[s], bytes.subarray(s * SEGMENT_ROWS * rowBytes, Math.min(L, (s + 1) * SEGMENT_ROWS) * rowBytes));
  const blob = await store.get(sdimTablesKey(userId));
  return { L, userId, segments: segs, cand, history, tablesBytes: blob?.length ?? 0 };
}

function numpyCrossCheck(python: string, p: Prepared, d: number, reference: Float32Array, reps: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sdim-numpy-'));
  try {
    writeFileSync(join(dir, 'q.f32'), p.cand);
    writeFileSync(join(dir, 'x.f32'), p.history);
    const script = join(__dirname, '../../../ops/parity/sdim/attention_ref.py');
    const args = [
      script,
      '--q',
      join(dir, 'q.f32'),
      '--x',
      join(dir, 'x.f32'),
      '--n',
      String(p.cand.length / d),
      '--L',
      String(p.L),
      '--d',
      String(d),
      '--reps',
      String(reps),
      '--out',
      join(dir, 'o.f32'),
    ];
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const res = JSON.parse(
      execFileSync(python, args, { env, encoding: 'utf8', maxBuffer: 1 << 20 })
        .trim()
        .split('\n')
        .pop()!,
    );
    const o = new Float32Array(readFileSync(join(dir, 'o.f32')).buffer.slice(0));
    let maxAbsDiff = 0;
    for (let i = 0; i < o.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(o[i] - reference[i]));
    return { computeMs: r3(res.ms), minMs: r3(res.minMs), reps: res.reps, maxAbsDiffToOnnx: Number(maxAbsDiff.toExponential(2)), numpy: res.numpy, blas: res.blas };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function vsAttention(store: RedisStateStore, o: VsAttentionOptions) {
  const { d } = o.sdim;
  const h = new SdimHasher(o.sdim);
  const onnx = await OnnxAttention.create(d);
  const prepared: Prepared[] = [];
  for (const L of o.lengths) {
    prepared.push(await prepare(store, h, L, o));
    o.log(`vs attention: L=${L} stored (sequence ${((L * d * 4) / 1024).toFixed(0)} KB, tables ${prepared[prepared.length - 1].tablesBytes} B)`);
  }
  const B = o.candidates;
  const sigs = new Uint16Array(B * h.groups);
  const interest = new Float64Array(B * d);
  const attOut = new Float32Array(B * d);
  type Parts = Record<string, number[]>;
  const sdim = prepared.map((): Parts => ({ fetch: [], decode: [], hash: [], gather: [], total: [] }));
  const sdimJs = prepared.map((): Parts => ({ hash: [], gather: [], total: [] }));
  const att = prepared.map(() => ({ onnx: { fetch: [], decode: [], compute: [], total: [] } as Parts, native: { fetch: [], decode: [], compute: [], total: [] } as Parts }));

  const sdimRequest = async (p: Prepared, parts: Parts | null, full: boolean) => {
    const t0 = now();
    const [tail, blob] = await Promise.all([store.hgetall(sdimTailKey(p.userId)), store.get(sdimTablesKey(p.userId))]);
    const t1 = now();
    const tables = readTables(blob, tail, h)!;
    const t2 = now();
    h.signaturesRows(p.cand, sigs);
    const t3 = now();
    interestFromEncodedRows(tables, h, sigs, DEFAULT_NORMALIZATION, interest);
    const t4 = now();
    if (!parts) return;
    if (full) {
      parts.fetch.push(t1 - t0);
      parts.decode.push(t2 - t1);
    }
    parts.hash.push(t3 - t2);
    parts.gather.push(t4 - t3);
    parts.total.push(t4 - t0);
  };
  const attentionRequest = async (p: Prepared, kernel: 'onnx' | 'native', parts: Parts | null) => {
    const t0 = now();
    const bufs = await store.getMany(p.segments);
    const t1 = now();
    const x = joinSegments(bufs, p.L, d);
    const t2 = now();
    if (kernel === 'onnx') await onnx.run(p.cand, x);
    else nativeAttention(p.cand, x, d, attOut);
    const t3 = now();
    if (!parts) return;
    parts.fetch.push(t1 - t0);
    parts.decode.push(t2 - t1);
    parts.compute.push(t3 - t2);
    parts.total.push(t3 - t0);
  };

  const kernels = sdimKernelInfo();
  const single = prepared.map((): Parts => ({ fetch: [], decode: [] }));
  const singleFetch = async (p: Prepared, parts: Parts | null) => {
    const t0 = now();
    const buf = (await store.get(sequenceKey(p.userId)))!;
    const t1 = now();
    f32View(buf);
    const t2 = now();
    parts?.fetch.push(t1 - t0);
    parts?.decode.push(t2 - t1);
  };
  // Blocks, each after a full GC: SDIM (the lengths taking turns), SDIM on the TypeScript kernels,
  // then attention one length after another, shortest first. Apart, because a request that follows
  // the GET of a multi-megabyte sequence pays for it (the reply's garbage, the socket): SDIM's 17 KB
  // read right after a 12.8 MB one took ~5 ms, and so did attention's own fetch at L = 100.
  gc();
  // The lengths take turns, the first of each round rotating, so that no length always follows the same one.
  const n = prepared.length;
  for (let rep = -5; rep < o.reps; rep++) {
    for (let j = 0; j < n; j++) {
      const i = (((rep + j) % n) + n) % n;
      await sdimRequest(prepared[i], rep >= 0 ? sdim[i] : null, true);
    }
  }
  o.log(`vs attention: ${o.reps} SDIM rounds`);
  const prev = setSdimKernels('js');
  gc();
  try {
    for (let rep = -1; rep < 10; rep++) {
      for (let j = 0; j < n; j++) {
        const i = (((rep + j) % n) + n) % n;
        await sdimRequest(prepared[i], rep >= 0 ? sdimJs[i] : null, false);
      }
    }
  } finally {
    setSdimKernels(prev);
  }
  const order = prepared.map((p, i) => i).sort((a, b) => prepared[a].L - prepared[b].L);
  for (const i of order) {
    const p = prepared[i];
    gc();
    for (let rep = -2; rep < attentionReps(p.L, o.reps); rep++) {
      await attentionRequest(p, 'onnx', rep >= 0 ? att[i].onnx : null);
      await attentionRequest(p, 'native', rep >= 0 ? att[i].native : null);
      await singleFetch(p, rep >= 0 ? single[i] : null);
    }
    o.log(`vs attention: L=${p.L} attention done`);
  }

  const rows: any[] = [];
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i];
    const med = (parts: Parts) => Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, r3(median(v))]));
    const onnxMs = med(att[i].onnx);
    const nativeMs = med(att[i].native);
    // The baseline, as favourable to attention as the measurements allow: the lower of the two
    // kernels' median totals, and of the faster compute plus the faster layout's median fetch +
    // decode (segments over all attention requests, or the single key), so that a noisy fetch does
    // not count against one kernel only.
    const segFetch = r3(median([...att[i].onnx.fetch, ...att[i].native.fetch]) + median([...att[i].onnx.decode, ...att[i].native.decode]));
    const singleMs = med(single[i]);
    const oneFetch = r3(singleMs.fetch + singleMs.decode);
    const bestKernel = onnxMs.compute <= nativeMs.compute ? 'onnx' : 'native';
    const composed = Math.min(segFetch, oneFetch) + Math.min(onnxMs.compute, nativeMs.compute);
    const bestTotal = Math.min(onnxMs.total, nativeMs.total, composed);
    const best = bestTotal === composed ? `${bestKernel} compute + ${segFetch <= oneFetch ? 'segments' : 'single-key'} fetch (medians)` : onnxMs.total <= nativeMs.total ? 'onnx' : 'native';
    const s = med(sdim[i]);
    // Values: ONNX against our kernel, and numpy against ONNX (same inputs).
    const ref = await onnx.run(p.cand, p.history);
    nativeAttention(p.cand, p.history, d, attOut);
    let nativeVsOnnx = 0;
    for (let k = 0; k < ref.length; k++) nativeVsOnnx = Math.max(nativeVsOnnx, Math.abs(ref[k] - attOut[k]));
    let numpy: ReturnType<typeof numpyCrossCheck> | { skipped: string } = { skipped: 'no python (run ops/parity/sdim/setup.sh)' };
    if (o.python) numpy = numpyCrossCheck(o.python, p, d, ref, p.L >= 100_000 ? 3 : 5);
    const row = {
      L: p.L,
      sdimMs: s.total,
      attentionMs: r3(bestTotal),
      attentionKernel: best,
      speedup: Number((bestTotal / s.total).toFixed(2)),
      sdim: s,
      sdimJsKernels: med(sdimJs[i]),
      attention: { onnx: onnxMs, native: nativeMs, fetchDecodeMs: { segments: segFetch, singleKey: oneFetch, singleKeyParts: singleMs } },
      numpy,
      maxAbsDiff: { nativeVsOnnx: Number(nativeVsOnnx.toExponential(2)) },
      bytes: { sequence: p.L * d * 4, tables: p.tablesBytes },
      reps: { sdim: sdim[i].total.length, attention: att[i].onnx.total.length, sdimJsKernels: sdimJs[i].total.length },
    };
    o.log(`vs attention L=${p.L}: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  await onnx.close();
  for (const p of prepared) await store.del(sequenceKey(p.userId), ...p.segments, sdimTablesKey(p.userId), sdimTailKey(p.userId));
  const at = (L: number) => rows.find((r) => r.L === L);
  const first = rows[0];
  const last = rows[rows.length - 1];
  const flat = Math.max(...rows.map((r) => r.sdimMs as number)) / Math.min(...rows.map((r) => r.sdimMs as number));
  return {
    params: {
      ...o.sdim,
      candidates: B,
      lengths: o.lengths,
      reps: o.reps,
      kernels,
      sequenceLayout: `segments (the kernels' requests): {u:<id>}:seq:f32:<s>, ${SEGMENT_ROWS} behaviour embeddings per segment as float32 LE rows (the writer APPENDs to the newest and drops the oldest), all read with one MGET and copied into one contiguous array (a view when L <= ${SEGMENT_ROWS}); single key (fetch timed beside): {u:<id>}:seq:f32, all L rows (a ring written with SETRANGE; attention does not depend on the order of the keys), one GET and a Float32Array view`,
      tablesLayout: 'libs/sdim codec format 1 ({u:<id>}:sdim, int32 sums) + delta tail hash ({u:<id>}:sdim:tail), read with HGETALL + GET in one round trip',
      attentionKernels:
        'onnx: onnxruntime-node 1.30 CPU (MLAS), Gemm(alpha=1/sqrt(d), transB) + Softmax + MatMul, 1 intra-op thread; native: native/sdim blocked float32 kernel with online softmax; numpy: OpenBLAS on 1 thread (compute only, cross-check)',
      timing: `median over ${o.reps} requests per L for SDIM (the lengths taking turns), fewer for attention at L >= 10,000 (reps); SDIM, SDIM on the TypeScript kernels and attention in three blocks (see vs-attention.ts), warm-up rounds first`,
    },
    rows,
    targets: {
      speedupAtL1000: at(1000) ? { value: at(1000)!.speedup, target: '>= 1.5 (fetch included, vs the best attention kernel)', pass: at(1000)!.speedup >= 1.5 } : null,
      speedupAtL10000: at(10_000) ? { value: at(10_000)!.speedup, target: '>= 10', pass: at(10_000)!.speedup >= 10 } : null,
      sdimFlat: { value: r3(flat), range: `L=${first.L}..${last.L}`, lastOverFirst: r3(last.sdimMs / first.sdimMs), target: '<= 1.3 (max over min of sdimMs across L)', pass: flat <= 1.3 },
    },
  };
}

/** The venv python of ops/parity/sdim/setup.sh, when it exists. */
export function defaultPython(): string | null {
  const p = join(__dirname, '../../../.venv-sdim/bin/python');
  return existsSync(p) ? p : null;
}
