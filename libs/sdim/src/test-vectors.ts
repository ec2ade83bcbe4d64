import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BucketTables, NORMALIZATIONS, Normalization } from './bucket-tables';
import { encodeTables } from './codec';
import { SdimConfig, SdimHasher } from './hasher';
import { GaussianStream, SplitMix64, detLog } from './prng';

/**
 * Shared test vectors (libs/sdim/test-vectors/sdim-v1.json): what the Python side must reproduce.
 * Built deterministically from the config below; regenerate with scripts/gen-test-vectors.ts.
 */
export const TEST_VECTOR_CONFIG: SdimConfig = { seed: 20220517, m: 48, tau: 3, d: 16 };
/** Seed of the splitmix64 stream that draws the test embeddings (distinct from the hyperplane seed). */
export const TEST_VECTOR_DATA_SEED = 7;

export interface TestVectors {
  format: 'sdim-test-vectors/1';
  spec: string;
  config: SdimConfig;
  dataSeed: number;
  prng: { seed: number; splitmix64: string[]; uniform: number[]; gaussian: number[] };
  detLog: [number, number][];
  R: number[][];
  behaviors: number[][];
  behaviorCodes: string[];
  behaviorSignatures: number[][];
  candidates: number[][];
  candidateCodes: string[];
  candidateSignatures: number[][];
  counts: number[];
  interest: Record<Normalization, number[][]>;
  encodedTables: { i32: string; f64: string; f32: string };
}

/**
 * Embeddings for the vectors: float32 values (Math.fround of Gaussian deviates times 0.5), plus
 * edge cases: a duplicate behaviour, an exact negation (a bucket may sum to zero), a behaviour equal
 * to a candidate, and an all-zero candidate (every code is 0 since the dot products are 0).
 */
function embeddings(d: number): { behaviors: number[][]; candidates: number[][] } {
  const g = new GaussianStream(new SplitMix64(TEST_VECTOR_DATA_SEED));
  const vec = () => Array.from({ length: d }, () => Math.fround(0.5 * g.next()));
  const behaviors = Array.from({ length: 17 }, vec);
  behaviors.push([...behaviors[3]]);
  behaviors.push(behaviors[5].map((x) => -x));
  const candidates = Array.from({ length: 3 }, vec);
  candidates.push([...behaviors[0]]);
  candidates.push(new Array(d).fill(0));
  behaviors.push(vec());
  return { behaviors, candidates };
}

export function buildTestVectors(): TestVectors {
  const config = TEST_VECTOR_CONFIG;
  const h = new SdimHasher(config);
  const rng = new SplitMix64(config.seed);
  const splitmix64 = Array.from({ length: 4 }, () => rng.nextU64().toString());
  const urng = new SplitMix64(config.seed);
  const uniform = Array.from({ length: 4 }, () => urng.nextDouble());
  const gs = new GaussianStream(new SplitMix64(config.seed));
  const gaussian = Array.from({ length: 6 }, () => gs.next());
  const logs: [number, number][] = [1e-300, 2.5e-17, 0.001, 0.1, 0.5, 0.7071067811865476, 0.75, 0.999999].map((x) => [x, detLog(x)]);
  const R = Array.from({ length: config.m }, (_, i) => Array.from(h.r.subarray(i * config.d, (i + 1) * config.d)));
  const { behaviors, candidates } = embeddings(config.d);
  const codeString = (v: number[]) => Array.from(h.codes(v)).join('');
  const t = new BucketTables(h);
  for (const b of behaviors) t.add(b);
  const interest = {} as Record<Normalization, number[][]>;
  for (const norm of NORMALIZATIONS) {
    const flat = t.interestBatch(candidates, { normalize: norm });
    interest[norm] = candidates.map((_, i) => Array.from(flat.subarray(i * config.d, (i + 1) * config.d)));
  }
  return {
    format: 'sdim-test-vectors/1',
    spec: 'libs/sdim/SPEC.md',
    config,
    dataSeed: TEST_VECTOR_DATA_SEED,
    prng: { seed: config.seed, splitmix64, uniform, gaussian },
    detLog: logs,
    R,
    behaviors,
    behaviorCodes: behaviors.map(codeString),
    behaviorSignatures: behaviors.map((b) => Array.from(h.signatures(b))),
    candidates,
    candidateCodes: candidates.map(codeString),
    candidateSignatures: candidates.map((c) => Array.from(h.signatures(c))),
    counts: Array.from(t.counts),
    interest,
    encodedTables: {
      i32: encodeTables(t, { dtype: 'i32' }).toString('base64'),
      f64: encodeTables(t, { dtype: 'f64' }).toString('base64'),
      f32: encodeTables(t, { dtype: 'f32' }).toString('base64'),
    },
  };
}

/** libs/sdim/test-vectors/sdim-v1.json, found from the source tree or from a compiled dist-* tree. */
export function testVectorsPath(): string {
  let dir = __dirname;
  for (;;) {
    const p = join(dir, 'libs', 'sdim', 'test-vectors', 'sdim-v1.json');
    if (existsSync(p)) return p;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('libs/sdim/test-vectors/sdim-v1.json not found above ' + __dirname);
    dir = parent;
  }
}

export function loadTestVectors(): TestVectors {
  return JSON.parse(readFileSync(testVectorsPath(), 'utf8')) as TestVectors;
}
