import type { TensorData } from '@recsys/infra/model-runner/model-runner.port';
import { decodeTables, normalizedBuckets, type SdimHasher } from '@recsys/sdim';
import { fnv1a32 } from './fnv1a';
import type { FeatureName, FeatureSpec } from './feature-spec';
import type { ItemFeatures } from './item-features';

/**
 * Builds the model's input tensors for one request (one user, one domain, B candidates) exactly
 * as CONTRACT.md section 1 defines them:
 *   user_bucket   int64 [B]    fnv1a32(userId) % hash.userBuckets (the same for every row)
 *   item_bucket   int64 [B]    fnv1a32(itemId) % hash.itemBuckets (also for unknown items)
 *   domain        int64 [B]    index of the domain in spec.domains
 *   item_dense    f32 [B, G+1] genre flags in itemDense.genres order, then (year - yearOffset) / yearScale
 *   item_emb      f32 [B, d]   the catalog embedding
 *   sdim_interest f32 [B, d]   SDIM interest of the user's tables for item_emb (libs/sdim, float64, then rounded)
 * Defaults, never errors: an unknown item has no genres, the default year and a zero embedding
 * (whose interest is that of the zero vector: every signature 0); a user without tables (or with
 * tables that do not decode under this deployment's hash functions) has zero interest.
 * Only the inputs the spec declares are computed.
 */
export type ItemLookup = (itemId: string) => ItemFeatures | undefined;

export interface AssembleInput {
  userId: string;
  domain: string;
  itemIds: readonly string[];
  /** The user's encoded SDIM tables (libs/sdim codec) or null when the user has none. */
  tables: Uint8Array | null;
}

export type UserState = 'history' | 'none' | 'invalid';

export interface AssembledFeatures {
  feeds: Record<string, TensorData>;
  batch: number;
  unknownItems: number;
  user: UserState;
  /** Why the tables were ignored (user 'invalid'). */
  userProblem?: string;
}

export class UnknownDomainError extends Error {
  readonly code = 'unknown_domain';
  constructor(
    readonly domain: string,
    readonly known: readonly string[],
  ) {
    super(`unknown domain '${domain}'; the model knows ${known.map((d) => `'${d}'`).join(', ')}`);
  }
}

export class FeatureAssembler {
  private readonly wanted: ReadonlySet<FeatureName>;
  private readonly domainIndex: ReadonlyMap<string, number>;
  private readonly genreIndex: ReadonlyMap<string, number>;
  private readonly denseWidth: number;
  private readonly d: number;
  private readonly zeroSignatures: Uint16Array;
  private readonly defaultDense: Float32Array;

  constructor(
    readonly spec: FeatureSpec,
    readonly hasher: SdimHasher,
  ) {
    const c = hasher.config;
    const s = spec.sdim;
    if (c.seed !== s.seed || c.m !== s.m || c.tau !== s.tau || c.d !== s.d) {
      throw new RangeError(`the hasher (${JSON.stringify(c)}) does not match the spec's sdim block (${JSON.stringify(s)})`);
    }
    this.wanted = new Set(spec.inputs.map((i) => i.name));
    this.domainIndex = new Map(spec.domains.map((d, i) => [d, i]));
    this.genreIndex = new Map(spec.itemDense.genres.map((g, i) => [g, i]));
    this.denseWidth = spec.itemDense.genres.length + 1;
    this.d = spec.embedding.dim;
    this.zeroSignatures = hasher.signatures(new Float64Array(this.d));
    this.defaultDense = new Float32Array(this.denseWidth);
    this.defaultDense[this.denseWidth - 1] = spec.itemDense.yearDefault;
  }

  /** Index of a domain, or throws UnknownDomainError. */
  domain(domain: string): number {
    const i = this.domainIndex.get(domain);
    if (i === undefined) throw new UnknownDomainError(domain, this.spec.domains);
    return i;
  }

  userBucket(userId: string): number {
    return fnv1a32(userId) % this.spec.hash.userBuckets;
  }

  assemble(input: AssembleInput, items: ItemLookup): AssembledFeatures {
    const domain = this.domain(input.domain);
    const n = input.itemIds.length;
    const d = this.d;
    const w = this.denseWidth;
    const want = this.wanted;
    const feeds: Record<string, TensorData> = {};
    const rows: (ItemFeatures | undefined)[] = new Array(n);
    let unknownItems = 0;
    for (let i = 0; i < n; i++) {
      const it = items(input.itemIds[i]);
      rows[i] = it;
      if (!it) unknownItems++;
    }

    if (want.has('user_bucket')) feeds.user_bucket = { dtype: 'int64', data: new BigInt64Array(n).fill(BigInt(this.userBucket(input.userId))), dims: [n] };
    if (want.has('domain')) feeds.domain = { dtype: 'int64', data: new BigInt64Array(n).fill(BigInt(domain)), dims: [n] };
    if (want.has('item_bucket')) {
      const b = new BigInt64Array(n);
      const buckets = this.spec.hash.itemBuckets;
      for (let i = 0; i < n; i++) b[i] = BigInt((rows[i]?.hash ?? fnv1a32(input.itemIds[i])) % buckets);
      feeds.item_bucket = { dtype: 'int64', data: b, dims: [n] };
    }
    if (want.has('item_dense')) {
      const dense = new Float32Array(n * w);
      const { yearOffset, yearScale } = this.spec.itemDense;
      for (let i = 0; i < n; i++) {
        const it = rows[i];
        const o = i * w;
        if (!it) {
          dense.set(this.defaultDense, o);
          continue;
        }
        for (const g of it.genres) {
          const gi = this.genreIndex.get(g);
          if (gi !== undefined) dense[o + gi] = 1;
        }
        dense[o + w - 1] = it.year === undefined ? this.spec.itemDense.yearDefault : (it.year - yearOffset) / yearScale;
      }
      feeds.item_dense = { dtype: 'float32', data: dense, dims: [n, w] };
    }
    if (want.has('item_emb')) {
      const emb = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const it = rows[i];
        if (it) emb.set(it.embedding, i * d);
      }
      feeds.item_emb = { dtype: 'float32', data: emb, dims: [n, d] };
    }
    let user: UserState = input.tables ? 'history' : 'none';
    let userProblem: string | undefined;
    if (want.has('sdim_interest')) {
      const interest = new Float32Array(n * d);
      if (input.tables) {
        try {
          this.interestInto(input.tables, rows, interest);
        } catch (e) {
          // Tables written with other hash functions or a corrupt blob: the user's history cannot be
          // used by this model; serve with the no-history default rather than fail the request.
          interest.fill(0);
          user = 'invalid';
          userProblem = (e as Error).message;
        }
      }
      feeds.sdim_interest = { dtype: 'float32', data: interest, dims: [n, d] };
    }
    return { feeds, batch: n, unknownItems, user, ...(userProblem ? { userProblem } : {}) };
  }

  /**
   * SDIM interest of every row into `out` (float32): libs/sdim interest (SPEC.md section 4) with the
   * same arithmetic per element (the normalised bucket vectors of libs/sdim, then for each k the
   * sum over groups j = 0..G-1 in order, from 0, divided by G, or for 'pooled' by the selected
   * counts), so the values equal
   * interestFromEncodedSignatures bit for bit before the rounding to float32. The loop keeps the
   * sums in registers (four columns at a time, groups inner) instead of updating the output row
   * G times: 0.2 ms instead of 0.7 ms for 500 candidates at m=48, tau=3, d=32.
   */
  private interestInto(blob: Uint8Array, rows: readonly (ItemFeatures | undefined)[], out: Float32Array): void {
    const t = decodeTables(blob, this.hasher);
    const d = this.d;
    const groups = this.hasher.groups;
    const buckets = this.hasher.buckets;
    const pooled = this.spec.sdim.normalize === 'pooled';
    const v = normalizedBuckets(t.sums, t.counts, d, this.spec.sdim.normalize);
    const base = new Int32Array(groups);
    for (let i = 0; i < rows.length; i++) {
      const sig = rows[i]?.signatures ?? this.zeroSignatures;
      let selected = 0;
      for (let j = 0; j < groups; j++) {
        const b = j * buckets + sig[j];
        base[j] = b * d;
        selected += t.counts[b];
      }
      const o = i * d;
      // 'pooled' divides by the selected counts (none selected: the zero vector, as in libs/sdim).
      const div = pooled ? selected : groups;
      if (div === 0) {
        out.fill(0, o, o + d);
        continue;
      }
      let k = 0;
      // Four columns per pass over the groups: four independent sums, each still over j in order.
      for (; k + 4 <= d; k += 4) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let j = 0; j < groups; j++) {
          const p = base[j] + k;
          a0 += v[p];
          a1 += v[p + 1];
          a2 += v[p + 2];
          a3 += v[p + 3];
        }
        out[o + k] = a0 / div;
        out[o + k + 1] = a1 / div;
        out[o + k + 2] = a2 / div;
        out[o + k + 3] = a3 / div;
      }
      for (; k < d; k++) {
        let acc = 0;
        for (let j = 0; j < groups; j++) acc += v[base[j] + k];
        out[o + k] = acc / div;
      }
    }
  }
}
