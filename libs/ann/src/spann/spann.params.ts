/**
 * SPANN parameters. Defaults follow SPTAG's SPANN defaults (ParameterDefinitionList.h) where
 * they carry over, and are otherwise set from measurements on SIFT (see the comments and the
 * figures in the spann/README section of the report); each can be overridden at build time,
 * and maxLists / maxDistRatio also per query through SearchOptions.
 */
export interface SpannParams {
  /**
   * Fraction of the vectors that become posting-list centroids (SPTAG: SelectHead Ratio).
   * 1/64 gives lists of ~64 vectors plus RNG replicas (~1.3 records per vector on SIFT-like
   * data), close to SPTAG's PostingVectorLimit (118 for 128-d floats). Measured on SIFT10K and a
   * 100k x 128 mixture: with SIMD scanning a record costs ~20 ns to score but ~100 ns to read,
   * and each list costs a read call (~2 us) plus centroid-search breadth, so fewer, larger lists
   * won over 1/16 and 1/32 at equal recall; the resident part stays under 10% of the raw
   * vectors for 128-d data.
   */
  centroidRatio: number;
  /**
   * Centroid fraction while the centroids stay few enough for routing to be one flat pass
   * (CentroidGraph's 600): the build uses max(n * centroidRatio, min(n * flatCentroidRatio, 600))
   * centroids, so small collections can get lists of ~32 instead of ~64 vectors. Off (0) by
   * default: on the held-out validation queries of SIFT10K and Fashion-MNIST 1k
   * (bench/results/ann-tuning-spann.json) 1/32 scores 25-30% fewer records at recall@10 0.90
   * than 1/64, but the timed SIFT10K run with 1/32 (314 lists) was slower at recall 0.90 than
   * with 1/64 (13 instead of 6-8 lists, p50 ~20 vs ~14 us): the extra lists and routing cost more
   * than the records saved with the in-place kernel (~15 ns per 128-d u8 record).
   */
  flatCentroidRatio: number;
  /** Fan-out of the balanced hierarchical k-means (SPTAG BKTKmeansK = 32; 8 is cheaper on 1 core at equal list quality). */
  branching: number;
  /**
   * Lloyd iterations per node of the hierarchy. 16 rather than 8: on held-out base vectors of
   * SIFT10K recall@10 at 8 lists went 0.891 -> 0.900, on a 100k x 128 mixture at 4 lists
   * 0.905 -> 0.915 (build about 1.2x longer).
   */
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
  /** Lists probed per query, the main recall/speed knob (SPTAG SearchInternalResultNum = 64). With 1/64 centroids, 8 lists reach recall@10 0.93-0.98 on SIFT10K and the 100k x 128 mixture but only 0.85 on heavily overlapping 32-d clusters; 16 is the safer default. */
  maxLists: number;
  /**
   * Query-aware pruning: probe list i only if d(q, c_i) <= maxDistRatio * d(q, c_1), on squared
   * routing distances (SPANN's (1 + eps)^2). SPTAG's default 10000 disables it; 2 (eps ~0.41)
   * cost no recall on SIFT10K (7.5 of 8 lists kept) and on the 100k x 128 mixture probed
   * 8.7 of 16 lists at recall 0.996 (vs 0.991 for 8 unpruned lists). Not applied when a
   * filter widened the probe.
   */
  maxDistRatio: number;
  /** A list that grows past this many entries is split in two (SPFresh-style); build truncates replicas to it. */
  postingCap: number;
  /**
   * SPFresh reassignment after a split: how many lists nearest to the split list's old centroid
   * are checked for vectors that now belong in one of the halves (SPFresh: ReassignK). 0 turns
   * reassignment off (a split then only halves the list). 16: on 2k 32-d vectors grown to 12k
   * through ~320 splits, a vector is found in its nearest list 82% of the time without
   * reassignment, 93% / 95% / 96% with 8 / 16 / 32, recall@10 at 16 lists 0.85 -> 0.89.
   */
  reassignLists: number;
  /** Centroid graph: HNSW links per node (level 0 gets 2M). */
  graphM: number;
  graphEfConstruction: number;
  /**
   * Minimum ef of the centroid search; a search uses max(graphEf, 2 * maxLists). Measured on a
   * 100k x 128 mixture (1.7k lists, held-out queries): at 4 lists ef 8 gave recall@10 0.906 at
   * ~2/3 of the query time of ef 16 (0.915); the found lists overlap the exact nearest 8 at
   * 0.99-1.0 either way. Below ~600 centroids the search is an exact flat pass (CentroidGraph).
   */
  graphEf: number;
  seed: number;
}

export const DEFAULT_SPANN_PARAMS: SpannParams = {
  centroidRatio: 1 / 64,
  flatCentroidRatio: 0,
  branching: 4,
  kmeansIters: 16,
  balanceFactor: 0.3,
  trainSample: 16384,
  replicas: 8,
  rngFactor: 1.0,
  replicaCandidates: 32,
  maxLists: 16,
  maxDistRatio: 2,
  postingCap: 256,
  reassignLists: 16,
  graphM: 12,
  graphEfConstruction: 100,
  graphEf: 8,
  seed: 42,
};

/** Parameters for which 0 is meaningful (off); every other one must be positive. */
const ZERO_ALLOWED = new Set<keyof SpannParams>(['reassignLists', 'flatCentroidRatio']);

export function resolveParams(p: Partial<SpannParams> | undefined): SpannParams {
  const out: SpannParams = { ...DEFAULT_SPANN_PARAMS };
  if (p) {
    for (const key of Object.keys(DEFAULT_SPANN_PARAMS) as Array<keyof SpannParams>) {
      const v = p[key];
      if (v !== undefined) {
        const min = ZERO_ALLOWED.has(key) ? 0 : Number.MIN_VALUE;
        if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`SpannIndex: bad param ${key}=${String(v)}`);
        out[key] = v;
      }
    }
  }
  if (out.centroidRatio > 1) throw new Error('SpannIndex: centroidRatio must be <= 1');
  if (out.postingCap < 4) throw new Error('SpannIndex: postingCap must be >= 4');
  return out;
}
