import { bucketRanges, chooseVariation, FNV_BASIS, fnvContinue, gbHash, gbHashV2From, inRange, type Range } from './hashing';

export type AttributeValue = string | number | boolean | string[];
export type Attributes = Record<string, AttributeValue | undefined>;
export type ConfigOverrides = Record<string, unknown>;

export interface VariantDef {
  key: string;
  weight: number;
  overrides: ConfigOverrides;
}

/** Who may enter: every listed condition must hold; a list means "one of". */
export interface Targeting {
  surfaces?: string[];
  domains?: string[];
  /** attribute name -> accepted values (the user's value, or one of its values if it is a list, must be among them). */
  attributes?: Record<string, Array<string | number | boolean>>;
}

export interface ExperimentDef {
  key: string;
  /** Hash seed (GrowthBook `seed`); the key when unset. Changing it reshuffles every user. */
  seed: string;
  variants: VariantDef[];
  /** Share of eligible users in the experiment, 0..1 (GrowthBook `coverage`). */
  coverage: number;
  /** Layer and this experiment's share of it [start, end): experiments of one layer hold disjoint ranges. */
  layer?: { key: string; range: Range };
  targeting: Targeting;
}

export interface HoldoutDef {
  /** Seed of the holdout hash. */
  seed: string;
  /** Share of all users held out of every experiment (they get the defaults). */
  fraction: number;
}

export interface Assignment {
  experiment: string;
  variant: string;
  variantIndex: number;
  overrides: ConfigOverrides;
}

/** Seed of a layer's hash: one hash per layer, so layers are orthogonal to each other and to variant hashing. */
export const layerSeed = (layerKey: string) => `layer:${layerKey}`;

/** The hash attribute (GrowthBook `hashAttribute: "id"`). */
export const HASH_ATTRIBUTE = 'id';

export function matchesTargeting(t: Targeting, attributes: Attributes): boolean {
  if (t.surfaces?.length && !t.surfaces.includes(String(attributes.surface ?? ''))) return false;
  if (t.domains?.length && !t.domains.includes(String(attributes.domain ?? ''))) return false;
  for (const [name, accepted] of Object.entries(t.attributes ?? {})) {
    const v = attributes[name];
    if (v === undefined) return false;
    const values = Array.isArray(v) ? v : [v];
    if (!values.some((x) => accepted.includes(x))) return false;
  }
  return true;
}

export function isHeldOut(userId: string, holdout: HoldoutDef | undefined): boolean {
  return !!holdout && holdout.fraction > 0 && gbHash(holdout.seed, userId, 2) < holdout.fraction;
}

/** Variant index of a user in one experiment, or -1: same steps and order as GrowthBook's runExperiment. */
export function assignOne(exp: ExperimentDef, userId: string, attributes: Attributes, holdout?: HoldoutDef, ranges?: Range[]): number {
  if (exp.variants.length < 2 || !userId) return -1;
  if (holdout && holdout.fraction > 0 && !inRange(gbHash(holdout.seed, userId, 2), [holdout.fraction, 1])) return -1;
  if (exp.layer && !inRange(gbHash(layerSeed(exp.layer.key), userId, 2), exp.layer.range)) return -1;
  if (!matchesTargeting(exp.targeting, attributes)) return -1;
  const n = gbHash(exp.seed || exp.key, userId, 2);
  return chooseVariation(n, ranges ?? bucketRanges(normalisedWeights(exp.variants), exp.coverage));
}

/** Weights scaled to sum to 1 (GrowthBook falls back to equal weights when they do not sum to ~1: we never send it such). */
export function normalisedWeights(variants: readonly VariantDef[]): number[] {
  const total = variants.reduce((s, v) => s + v.weight, 0);
  return variants.map((v) => (total > 0 ? v.weight / total : 1 / variants.length));
}

/**
 * Assigns a user to every running experiment, precomputing bucket ranges once. The effective
 * config is the shipped defaults overlaid by each assigned variant's overrides (experiments of
 * one layer never overlap; across layers a key should be owned by one layer).
 */
interface Compiled {
  exp: ExperimentDef;
  ranges: Range[];
  /** FNV state after the seed. */
  seedState: number;
  /** Index into the per-call layer hash cache, or -1. */
  layer: number;
  layerRange?: Range;
  matches: (a: Attributes) => boolean;
}

function compileTargeting(t: Targeting): (a: Attributes) => boolean {
  const surfaces = t.surfaces?.length ? new Set(t.surfaces) : undefined;
  const domains = t.domains?.length ? new Set(t.domains) : undefined;
  const attrs = Object.entries(t.attributes ?? {}).map(([k, v]) => [k, new Set<unknown>(v)] as const);
  if (!surfaces && !domains && attrs.length === 0) return () => true;
  return (a) => {
    if (surfaces && !surfaces.has(String(a.surface ?? ''))) return false;
    if (domains && !domains.has(String(a.domain ?? ''))) return false;
    for (const [k, accepted] of attrs) {
      const v = a[k];
      if (v === undefined) return false;
      if (Array.isArray(v) ? !v.some((x) => accepted.has(x)) : !accepted.has(v)) return false;
    }
    return true;
  };
}

/**
 * Assigns a user to every running experiment, with everything that does not depend on the user
 * precomputed (bucket ranges, targeting predicates) and each layer's hash computed once per call.
 * The effective config is the shipped defaults overlaid by each assigned variant's overrides
 * (experiments of one layer never overlap; across layers a key should be owned by one layer).
 * Same result as assignOne for every experiment (spec).
 */
export class Assigner {
  private readonly compiled: Compiled[];
  private readonly layerSeeds: number[];
  private readonly layerHash: Float64Array;

  constructor(
    experiments: readonly ExperimentDef[],
    private readonly holdout?: HoldoutDef,
    private readonly defaults: ConfigOverrides = {},
  ) {
    const layers = new Map<string, number>();
    this.compiled = experiments
      .filter((e) => e.variants.length >= 2)
      .map((exp) => {
        let layer = -1;
        if (exp.layer) {
          layer = layers.get(exp.layer.key) ?? layers.size;
          layers.set(exp.layer.key, layer);
        }
        return {
          exp,
          ranges: bucketRanges(normalisedWeights(exp.variants), exp.coverage),
          seedState: fnvContinue(FNV_BASIS, exp.seed || exp.key),
          layer,
          layerRange: exp.layer?.range,
          matches: compileTargeting(exp.targeting),
        };
      });
    this.layerSeeds = [...layers.keys()].map((k) => fnvContinue(FNV_BASIS, layerSeed(k)));
    this.layerHash = new Float64Array(this.layerSeeds.length);
  }

  assign(userId: string, attributes: Attributes = {}): { assignments: Assignment[]; config: ConfigOverrides; heldOut: boolean } {
    const heldOut = isHeldOut(userId, this.holdout);
    const assignments: Assignment[] = [];
    const config: ConfigOverrides = { ...this.defaults };
    if (heldOut || !userId) return { assignments, config, heldOut };
    this.layerHash.fill(-1);
    for (const c of this.compiled) {
      if (c.layer >= 0) {
        let h = this.layerHash[c.layer];
        if (h < 0) h = this.layerHash[c.layer] = gbHashV2From(this.layerSeeds[c.layer], userId);
        if (!inRange(h, c.layerRange!)) continue;
      }
      if (!c.matches(attributes)) continue;
      const i = chooseVariation(gbHashV2From(c.seedState, userId), c.ranges);
      if (i < 0) continue;
      const v = c.exp.variants[i];
      assignments.push({ experiment: c.exp.key, variant: v.key, variantIndex: i, overrides: v.overrides });
      for (const k in v.overrides) config[k] = v.overrides[k];
    }
    return { assignments, config, heldOut };
  }
}

/** Hands out disjoint ranges of a layer: the first free gap of the requested width, or undefined when the layer is full. */
export function allocateLayerRange(taken: readonly Range[], width: number): Range | undefined {
  const sorted = [...taken].sort((a, b) => a[0] - b[0]);
  let start = 0;
  for (const r of sorted) {
    if (r[0] - start >= width - 1e-9) break;
    start = Math.max(start, r[1]);
  }
  const end = Math.round((start + width) * 1e6) / 1e6;
  return end <= 1 + 1e-9 ? [start, Math.min(1, end)] : undefined;
}

/**
 * The same experiment as a GrowthBook SDK experiment (`gb.run(...)`): layer and holdout become
 * hash filters (the SDK's successor of namespaces), targeting a condition on attributes
 * `surface`, `domain` and the listed ones; the user id is the `id` attribute.
 */
export function toGrowthBookExperiment(exp: ExperimentDef, holdout?: HoldoutDef) {
  const filters: Array<{ seed: string; ranges: Range[]; hashVersion: 2; attribute: string }> = [];
  if (holdout && holdout.fraction > 0) filters.push({ seed: holdout.seed, ranges: [[holdout.fraction, 1]], hashVersion: 2, attribute: HASH_ATTRIBUTE });
  if (exp.layer) filters.push({ seed: layerSeed(exp.layer.key), ranges: [exp.layer.range], hashVersion: 2, attribute: HASH_ATTRIBUTE });
  const condition: Record<string, unknown> = {};
  if (exp.targeting.surfaces?.length) condition.surface = { $in: exp.targeting.surfaces };
  if (exp.targeting.domains?.length) condition.domain = { $in: exp.targeting.domains };
  for (const [name, accepted] of Object.entries(exp.targeting.attributes ?? {})) condition[name] = { $in: accepted };
  return {
    key: exp.key,
    seed: exp.seed || exp.key,
    hashVersion: 2 as const,
    hashAttribute: HASH_ATTRIBUTE,
    variations: exp.variants.map((v) => v.key),
    weights: normalisedWeights(exp.variants),
    coverage: exp.coverage,
    ...(filters.length ? { filters } : {}),
    ...(Object.keys(condition).length ? { condition } : {}),
  };
}
