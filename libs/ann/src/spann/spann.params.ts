/**
 * SPANN parameters. Defaults follow SPTAG's SPANN defaults (ParameterDefinitionList.h) where
 * they carry over, and are otherwise set from measurements on SIFT (see the comments and the
 * figures in the spann/README section of the report); each can be overridden at build time,
 * and maxLists / maxDistRatio also per query through SearchOptions.
 */
export interface SpannParams {
  /**
   * Fraction of the vectors that become posting-list centroids (SPTAG: SelectHead Ratio). With
   * ~3-5 replicas per vector after the RNG rule, 1/16 gives posting lists of ~60-80 vectors
   * (SPTAG's PostingVectorLimit is 118 for 128-d floats) while the centroids keep the resident
   * part near 10% of the raw vectors for 128-d data.
   */
  centroidRatio: number;
  /** Fan-out of the balanced hierarchical k-means (SPTAG BKTKmeansK = 32; 8 is cheaper on 1 core at equal list quality). */
  branching: number;
  /** Lloyd iterations per node of the hierarchy. */
  kmeansIters: number;
  /**
   * Balance penalty: assignment cost = dist + lambda * size(cluster) with
   * lambda = balanceFactor * meanDist / (n / k), i.e. a cluster of average size costs
   * balanceFactor times a typical distance (SPTAG: BKTLambdaFactor, tuned dynamically there).
   */
  balanceFactor: number;
  /** Training sample per hierarchy node (all members are then assigned with the trained centers). */
  trainSample: number;
  /** Maximum lists a vector is written to (SPTAG ReplicaCount = 8). */
  replicas: number;
  /** RNG rule: skip centroid c if an already chosen c' has rngFactor * d(c, c') <= d(x, c) (SPTAG RNGFactor = 1.0). */
  rngFactor: number;
  /** Nearest centroids examined for replicas (SPTAG InternalResultNum = 64). */
  replicaCandidates: number;
  /** Lists probed per query, the main recall/speed knob (SPTAG SearchInternalResultNum = 64). */
  maxLists: number;
  /**
   * Query-aware pruning: probe list i only if d(q, c_i) <= maxDistRatio * d(q, c_1), on squared
   * routing distances (SPANN's (1 + eps)^2). SPTAG's default 10000 disables it.
   */
  maxDistRatio: number;
  /** A list that grows past this many entries is split in two (SPFresh-style); build truncates replicas to it. */
  postingCap: number;
  /** Centroid graph: HNSW links per node (level 0 gets 2M). */
  graphM: number;
  graphEfConstruction: number;
  /** Minimum ef of the centroid search (the search uses max(graphEf, probed lists)). */
  graphEf: number;
  seed: number;
}

export const DEFAULT_SPANN_PARAMS: SpannParams = {
  centroidRatio: 1 / 16,
  branching: 8,
  kmeansIters: 8,
  balanceFactor: 0.1,
  trainSample: 16384,
  replicas: 8,
  rngFactor: 1.0,
  replicaCandidates: 32,
  maxLists: 32,
  maxDistRatio: 10000,
  postingCap: 256,
  graphM: 12,
  graphEfConstruction: 100,
  graphEf: 48,
  seed: 42,
};

export function resolveParams(p: Partial<SpannParams> | undefined): SpannParams {
  const out: SpannParams = { ...DEFAULT_SPANN_PARAMS };
  if (p) {
    for (const key of Object.keys(DEFAULT_SPANN_PARAMS) as Array<keyof SpannParams>) {
      const v = p[key];
      if (v !== undefined) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`SpannIndex: bad param ${key}=${String(v)}`);
        out[key] = v;
      }
    }
  }
  if (out.centroidRatio > 1) throw new Error('SpannIndex: centroidRatio must be <= 1');
  if (out.postingCap < 4) throw new Error('SpannIndex: postingCap must be >= 4');
  return out;
}
