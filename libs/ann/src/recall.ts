/**
 * recall@k: for each query, the share of the true k nearest neighbours that the answer's first k
 * contain, averaged over queries. Ties in the truth are not special-cased (the usual ANN
 * benchmark convention), so recall is computed on ids only.
 */
export function recallAtK<T>(found: ReadonlyArray<ArrayLike<T>>, truth: ReadonlyArray<ArrayLike<T>>, k: number): number {
  if (found.length !== truth.length) throw new Error(`recallAtK: ${found.length} answers for ${truth.length} queries`);
  if (found.length === 0 || k <= 0) return 0;
  let sum = 0;
  for (let q = 0; q < found.length; q++) sum += recallOne(found[q], truth[q], k);
  return sum / found.length;
}

/** recall@k of one answer. */
export function recallOne<T>(found: ArrayLike<T>, truth: ArrayLike<T>, k: number): number {
  const t = new Set<T>();
  const kt = Math.min(k, truth.length);
  for (let i = 0; i < kt; i++) t.add(truth[i]);
  if (t.size === 0) return 1;
  let hit = 0;
  const kf = Math.min(k, found.length);
  for (let i = 0; i < kf; i++) if (t.has(found[i])) hit++;
  return hit / Math.min(k, t.size);
}

/** Rows of a row-major ground-truth matrix (e.g. an ivecs file) cut to their first k columns. */
export function truthRows(data: Int32Array, dim: number, count: number, k: number): Int32Array[] {
  if (k > dim) throw new Error(`ground truth has ${dim} neighbours per query, k=${k} asked`);
  const rows: Int32Array[] = [];
  for (let i = 0; i < count; i++) rows.push(data.subarray(i * dim, i * dim + k));
  return rows;
}
