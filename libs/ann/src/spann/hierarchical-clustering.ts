import { balancedKmeans } from './balanced-kmeans';
import { SimdMemory } from './simd-memory';
import { seededRandom } from './vector-math';

export interface HierarchyOptions {
  /** Desired number of leaves (posting lists); leaves end up with n / targetLeaves members on average. */
  targetLeaves: number;
  branching: number;
  iters: number;
  balanceFactor: number;
  trainSample: number;
  seed: number;
  onProgress?: (fraction: number) => void;
}

export interface Hierarchy {
  /** count x dim leaf means (the posting-list centroids). */
  centroids: Float32Array;
  count: number;
}

/**
 * Balanced hierarchical k-means (SPTAG BKT-style head selection): split the whole set with
 * balanced k-means, then split every child that is still larger than a leaf, until all leaves
 * hold about n / targetLeaves points. Cost is n * branching * depth distance evaluations per
 * Lloyd pass, which is why the fan-out is small and training uses a sample per node.
 */
export function hierarchicalClustering(data: Float32Array, dim: number, n: number, opts: HierarchyOptions): Hierarchy {
  const rand = seededRandom(opts.seed);
  // A build-only SIMD memory (k-means sample and chunks): dropped with this function's frame.
  const sm = new SimdMemory();
  const leaf = Math.max(1, n / Math.max(1, opts.targetLeaves));
  const maxLeaf = Math.max(1, Math.floor(leaf * 1.5));
  let leafCount = 0;
  let done = 0;
  const leafMeans: Float32Array[] = [];
  const emitLeaf = (members: Uint32Array): void => {
    if (members.length === 0) return;
    const mean = new Float64Array(dim);
    for (let i = 0; i < members.length; i++) {
      const off = members[i] * dim;
      for (let t = 0; t < dim; t++) mean[t] += data[off + t];
    }
    const c = new Float32Array(dim);
    for (let t = 0; t < dim; t++) c[t] = mean[t] / members.length;
    leafMeans.push(c);
    leafCount++;
    done += members.length;
    opts.onProgress?.(done / n);
  };

  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const stack: Uint32Array[] = [all];
  while (stack.length > 0) {
    const members = stack.pop() as Uint32Array;
    if (members.length <= maxLeaf) {
      emitLeaf(members);
      continue;
    }
    const k = Math.max(2, Math.min(opts.branching, Math.round(members.length / leaf)));
    const r = balancedKmeans(
      data,
      dim,
      members,
      {
        k,
        iters: opts.iters,
        balanceFactor: opts.balanceFactor,
        trainSample: opts.trainSample,
        rand,
      },
      sm,
    );
    const children = splitByAssign(members, r.assign, r.k, r.counts);
    if (children.some((c) => c.length === members.length)) {
      // No progress (duplicates): cut into k equal chunks so the recursion terminates.
      const step = Math.ceil(members.length / k);
      for (let s = 0; s < members.length; s += step) stack.push(members.subarray(s, s + step));
      continue;
    }
    for (const c of children) if (c.length > 0) stack.push(c);
  }
  const centroids = new Float32Array(leafCount * dim);
  leafMeans.forEach((c, i) => centroids.set(c, i * dim));
  return { centroids, count: leafCount };
}

function splitByAssign(members: Uint32Array, assign: Uint32Array, k: number, counts: Uint32Array): Uint32Array[] {
  const children = Array.from({ length: k }, (_, j) => new Uint32Array(counts[j]));
  const fill = new Uint32Array(k);
  for (let i = 0; i < members.length; i++) {
    const j = assign[i];
    children[j][fill[j]++] = members[i];
  }
  return children;
}
