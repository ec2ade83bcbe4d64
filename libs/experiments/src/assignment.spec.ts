import { dirname, join } from 'node:path';
import { GrowthBook } from '@growthbook/growthbook';
import { allocateLayerRange, Assigner, assignOne, toGrowthBookExperiment, type Attributes, type ExperimentDef, type HoldoutDef } from './assignment';
import { bucketRanges, chooseVariation, fnv32a, gbHash } from './hashing';
import { rng } from './testing/synthetic';

const v = (key: string, weight: number, overrides: Record<string, unknown> = {}) => ({ key, weight, overrides });
const users = (n: number, prefix = 'user-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('GrowthBook hashing', () => {
  it('reproduces the SDK test vectors of FNV-1a and hash v1/v2', () => {
    // Vectors from GrowthBook's shared SDK test cases (cases.json, "hash").
    expect(gbHash('', 'a', 1)).toBeCloseTo(0.22, 10);
    expect(gbHash('', 'b', 1)).toBeCloseTo(0.077, 10);
    expect(gbHash('b', 'a', 1)).toBeCloseTo(0.946, 10);
    expect(fnv32a('')).toBe(0x811c9dc5);
    // And the SDK's own hash function on 20,000 seed/value pairs, both versions (non-ASCII included).
    // The SDK does not export it: load its util module by path (the package's exports map hides it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require(join(dirname(require.resolve('@growthbook/growthbook')), 'util.js')) as { hash(seed: string, value: string, version: number): number };
    const r = rng(7);
    for (let i = 0; i < 10_000; i++) {
      const seed = `seed-${Math.floor(r() * 1e6)}${i % 7 === 0 ? 'ü€' : ''}`;
      const value = `user-${Math.floor(r() * 1e9)}`;
      for (const version of [1, 2] as const) if (gbHash(seed, value, version) !== sdk.hash(seed, value, version)) throw new Error(`${seed}/${value} v${version}`);
    }
  });

  it('builds bucket ranges from weights and coverage', () => {
    expect(bucketRanges([0.5, 0.5], 1)).toEqual([
      [0, 0.5],
      [0.5, 1],
    ]);
    expect(bucketRanges([0.5, 0.5], 0.5)).toEqual([
      [0, 0.25],
      [0.5, 0.75],
    ]);
    expect(bucketRanges([0.2, 0.8], 2)).toEqual([
      [0, 0.2],
      [0.2, 1],
    ]);
    expect(chooseVariation(0.3, bucketRanges([0.5, 0.5], 0.5))).toBe(-1);
  });
});

describe('assignment agrees with the GrowthBook JS SDK (@growthbook/growthbook)', () => {
  const holdout: HoldoutDef = { seed: 'global-holdout', fraction: 0.05 };
  const experiments: ExperimentDef[] = [
    { key: 'rank-model', seed: 'rank-model', variants: [v('control', 1), v('v2', 1, { rankingModelVersion: 'v2' })], coverage: 1, targeting: {} },
    { key: 'slate-3way', seed: 's3', variants: [v('a', 0.2), v('b', 0.3), v('c', 0.5)], coverage: 0.7, targeting: { surfaces: ['home'] }, layer: { key: 'slates', range: [0, 0.6] } },
    { key: 'slate-other', seed: 'slate-other', variants: [v('a', 1), v('b', 1)], coverage: 1, targeting: {}, layer: { key: 'slates', range: [0.6, 1] } },
    { key: 'adload-tier', seed: 'adload-tier', variants: [v('base', 0.5), v('more', 0.5)], coverage: 0.4, targeting: { attributes: { tier: ['gold', 'silver'] }, domains: ['news'] } },
  ];
  const surfaces = ['home', 'search', 'video'];
  const tiers = ['gold', 'silver', 'bronze'];
  const domains = ['news', 'sports'];

  it('puts 100,000 users in the same variant of every experiment (layers, holdout, coverage, targeting)', () => {
    const r = rng(42);
    const gbExperiments = experiments.map((e) => toGrowthBookExperiment(e, holdout));
    const counts = new Map<string, number>();
    let disagreements = 0;
    const gb = new GrowthBook({ attributes: {} });
    for (const id of users(100_000)) {
      const attributes: Attributes = { surface: surfaces[Math.floor(r() * 3)], tier: tiers[Math.floor(r() * 3)], domain: domains[Math.floor(r() * 2)] };
      gb.setAttributes({ id, ...attributes });
      experiments.forEach((e, i) => {
        const mine = assignOne(e, id, attributes, holdout);
        const theirs = gb.run(gbExperiments[i] as never);
        const sdk = theirs.inExperiment ? theirs.variationId : -1;
        if (mine !== sdk) disagreements++;
        counts.set(`${e.key}:${mine}`, (counts.get(`${e.key}:${mine}`) ?? 0) + 1);
      });
    }
    expect(disagreements).toBe(0);
    // The comparison is not over "nobody assigned": every variant has users, and outsiders exist.
    for (const e of experiments) {
      e.variants.forEach((_, i) => expect(counts.get(`${e.key}:${i}`) ?? 0).toBeGreaterThan(1000));
      expect(counts.get(`${e.key}:-1`) ?? 0).toBeGreaterThan(4000);
    }
  });
});

describe('ramps, layers and holdout', () => {
  it('raising coverage during a ramp never moves an assigned user', () => {
    const base: ExperimentDef = { key: 'ramp', seed: 'ramp', variants: [v('a', 0.5), v('b', 0.25), v('c', 0.25)], coverage: 0.05, targeting: {} };
    const ids = users(100_000);
    let prev = ids.map((id) => assignOne(base, id, {}));
    for (const coverage of [0.1, 0.25, 0.5, 0.8, 1]) {
      const next = ids.map((id) => assignOne({ ...base, coverage }, id, {}));
      let moved = 0;
      let entered = 0;
      prev.forEach((p, i) => {
        if (p >= 0 && next[i] !== p) moved++;
        if (p < 0 && next[i] >= 0) entered++;
      });
      expect(moved).toBe(0);
      expect(entered).toBeGreaterThan(1000);
      prev = next;
    }
    expect(prev.every((x) => x >= 0)).toBe(true);
  });

  it('no user is in two experiments of one layer (100,000 users); layers are orthogonal', () => {
    const taken: Array<readonly [number, number]> = [];
    const layerA: ExperimentDef[] = [0.3, 0.3, 0.4].map((w, i) => {
      const range = allocateLayerRange(taken, w)!;
      taken.push(range);
      return { key: `a${i}`, seed: `a${i}`, variants: [v('c', 1), v('t', 1)], coverage: 1, targeting: {}, layer: { key: 'A', range } };
    });
    expect(allocateLayerRange(taken, 0.01)).toBeUndefined();
    const layerB: ExperimentDef[] = [0, 1].map((i) => ({
      key: `b${i}`,
      seed: `b${i}`,
      variants: [v('c', 1), v('t', 1)],
      coverage: 1,
      targeting: {},
      layer: { key: 'B', range: [i * 0.5, i * 0.5 + 0.5] as const },
    }));
    const assigner = new Assigner([...layerA, ...layerB]);
    const joint = new Map<string, number>();
    let notExactlyOne = 0;
    for (const id of users(100_000)) {
      const { assignments } = assigner.assign(id);
      const a = assignments.filter((x) => x.experiment.startsWith('a'));
      const b = assignments.filter((x) => x.experiment.startsWith('b'));
      // The layer's ranges cover [0, 1): exactly one experiment of each layer.
      if (a.length !== 1 || b.length !== 1) {
        notExactlyOne++;
        continue;
      }
      const key = `${a[0].experiment}/${b[0].experiment}`;
      joint.set(key, (joint.get(key) ?? 0) + 1);
    }
    expect(notExactlyOne).toBe(0);
    expect(joint.size).toBe(6);
    // Orthogonal: P(a_i and b_j) = P(a_i) P(b_j) within sampling noise.
    for (const [key, n] of joint) {
      const wa = [0.3, 0.3, 0.4][Number(key[1])];
      const expected = 100_000 * wa * 0.5;
      expect(Math.abs(n - expected) / Math.sqrt(expected)).toBeLessThan(5);
    }
  });

  it('a held-out user gets no experiment and the shipped defaults; others get overrides merged on defaults', () => {
    const e: ExperimentDef = { key: 'x', seed: 'x', variants: [v('c', 1, { limit: 10 }), v('t', 1, { limit: 20 })], coverage: 1, targeting: {} };
    const assigner = new Assigner([e], { seed: 'h', fraction: 0.1 }, { slatePolicy: 'thompson', limit: 5 });
    let held = 0;
    let wrong = 0;
    for (const id of users(20_000)) {
      const r = assigner.assign(id);
      if (r.heldOut) {
        held++;
        if (r.assignments.length !== 0 || r.config.limit !== 5 || r.config.slatePolicy !== 'thompson') wrong++;
      } else if (r.config.limit !== (r.assignments[0].variant === 'c' ? 10 : 20) || r.config.slatePolicy !== 'thompson') wrong++;
    }
    expect(wrong).toBe(0);
    expect(held / 20_000).toBeGreaterThan(0.09);
    expect(held / 20_000).toBeLessThan(0.11);
  });

  it('targets by surface, domain and attributes', () => {
    const e: ExperimentDef = { key: 't', seed: 't', variants: [v('c', 1), v('t', 1)], coverage: 1, targeting: { surfaces: ['home'], domains: ['news'], attributes: { country: ['DE', 'FR'] } } };
    expect(assignOne(e, 'u1', { surface: 'home', domain: 'news', country: 'DE' })).toBeGreaterThanOrEqual(0);
    expect(assignOne(e, 'u1', { surface: 'search', domain: 'news', country: 'DE' })).toBe(-1);
    expect(assignOne(e, 'u1', { surface: 'home', domain: 'sports', country: 'DE' })).toBe(-1);
    expect(assignOne(e, 'u1', { surface: 'home', domain: 'news', country: 'US' })).toBe(-1);
    expect(assignOne(e, 'u1', { surface: 'home', domain: 'news' })).toBe(-1);
    expect(assignOne(e, 'u1', { surface: 'home', domain: 'news', country: ['US', 'FR'] })).toBeGreaterThanOrEqual(0);
  });
});

describe('Assigner (precompiled) equals assignOne', () => {
  it('gives every user the variants assignOne gives, over layers, targeting, coverage and holdout', () => {
    const holdout: HoldoutDef = { seed: 'h2', fraction: 0.07 };
    const exps: ExperimentDef[] = Array.from({ length: 30 }, (_, i) => ({
      key: `e${i}`,
      seed: i % 2 ? `e${i}` : '',
      variants: Array.from({ length: 2 + (i % 3) }, (_, k) => v(`v${k}`, 1 + k, { [`k${i % 4}`]: k })),
      coverage: i % 4 === 0 ? 0.4 : 1,
      targeting: i % 3 === 0 ? { surfaces: ['home'] } : i % 3 === 1 ? { attributes: { tier: ['gold'] }, domains: ['news'] } : {},
      ...(i % 5 !== 4 ? { layer: { key: `L${Math.floor(i / 3)}`, range: [(i % 3) / 3, ((i % 3) + 1) / 3] as const } } : {}),
    }));
    const assigner = new Assigner(exps, holdout);
    const r = rng(99);
    let mismatches = 0;
    for (let u = 0; u < 20_000; u++) {
      const attributes: Attributes = { surface: r() < 0.5 ? 'home' : 'video', tier: r() < 0.5 ? 'gold' : ['bronze', 'gold'][Math.floor(r() * 2)], domain: r() < 0.7 ? 'news' : 'sports' };
      const got = new Map(assigner.assign(`id${u}`, attributes).assignments.map((a) => [a.experiment, a.variantIndex]));
      for (const e of exps) {
        const want = assignOne(e, `id${u}`, attributes, holdout);
        if ((got.get(e.key) ?? -1) !== want) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });
});
