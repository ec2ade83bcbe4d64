/**
 * Position bias. The position-based model (PBM): P(click at position k on item i) = e_k * r_i,
 * with e_k the probability that position k is examined and r_i the item's attractiveness.
 * Estimated by EM from per (item, position) impression and click counts (Chuklin, Markov & de
 * Rijke, "Click Models for Web Search", 2015, section 4; Wang et al., WSDM 2018, "Position Bias
 * Estimation for Unbiased Learning to Rank"):
 *   E-step, for a skip at (i, k): P(E=1 | C=0) = e_k (1 - r_i) / (1 - e_k r_i),
 *                                 P(R=1 | C=0) = (1 - e_k) r_i / (1 - e_k r_i);
 *   M-step: e_k = (clicks_k + sum_skips P(E=1|C=0)) / impressions_k, and the same for r_i.
 * Only e_k / r_i products are identified, so examination is reported relative to the top
 * position (e_0 = 1, r scaled accordingly). Positions are 0-based (0 = top).
 *
 * Cascade option: every item above the last click is examined, none below it (Craswell et al. 2008).
 */
export interface PositionCount {
  item: string;
  position: number;
  impressions: number;
  clicks: number;
}

export interface PbmEstimate {
  /** relative examination per position, examination[0] = 1 */
  examination: number[];
  /** attractiveness per item on the same scale (may exceed 1 when position 0 is not always examined) */
  attractiveness: Map<string, number>;
  iterations: number;
  logLikelihood: number;
}

export function estimatePbm(rows: PositionCount[], opts: { iterations?: number; tolerance?: number; positions?: number } = {}): PbmEstimate {
  const maxIt = opts.iterations ?? 200;
  const tol = opts.tolerance ?? 1e-7;
  const P = opts.positions ?? rows.reduce((m, r) => Math.max(m, r.position + 1), 0);
  const items = [...new Set(rows.map((r) => r.item))];
  const itemIdx = new Map(items.map((x, i) => [x, i]));
  const ri = Int32Array.from(rows, (r) => itemIdx.get(r.item)!);
  let e = Array.from({ length: P }, () => 0.5);
  let r = new Float64Array(items.length).fill(0.5);
  let it = 0;
  let ll = -Infinity;
  for (; it < maxIt; it++) {
    const eNum = new Float64Array(P);
    const eDen = new Float64Array(P);
    const rNum = new Float64Array(items.length);
    const rDen = new Float64Array(items.length);
    let newLl = 0;
    rows.forEach((row, j) => {
      const k = row.position;
      if (k >= P || row.impressions <= 0) return;
      const i = ri[j];
      const ek = e[k];
      const rr = r[i];
      const p = ek * rr;
      const skips = row.impressions - row.clicks;
      const denom = Math.max(1e-12, 1 - p);
      eNum[k] += row.clicks + (skips * ek * (1 - rr)) / denom;
      eDen[k] += row.impressions;
      rNum[i] += row.clicks + (skips * (1 - ek) * rr) / denom;
      rDen[i] += row.impressions;
      newLl += row.clicks * Math.log(Math.max(1e-300, p)) + skips * Math.log(denom);
    });
    e = e.map((old, k) => (eDen[k] > 0 ? clamp(eNum[k] / eDen[k]) : old));
    r = r.map((old, i) => (rDen[i] > 0 ? clamp(rNum[i] / rDen[i]) : old));
    if (Math.abs(newLl - ll) < tol * Math.max(1, Math.abs(newLl))) {
      ll = newLl;
      it++;
      break;
    }
    ll = newLl;
  }
  const top = e[0] > 0 ? e[0] : 1;
  return {
    examination: e.map((x) => x / top),
    attractiveness: new Map(items.map((x, i) => [x, r[i] * top])),
    iterations: it,
    logLikelihood: ll,
  };
}

const clamp = (x: number) => Math.min(1 - 1e-9, Math.max(1e-9, x));

/** Default examination before any data: 1 / log2(k + 2) (the DCG discount), 0-based k. */
export const defaultExamination = (positions: number) => Array.from({ length: positions }, (_, k) => 1 / Math.log2(k + 2));

/** Examination probability of each shown position under the cascade model: 1 up to the last click, 0 below. */
export function cascadeExamination(positions: number, clickedPositions: number[]): number[] {
  const last = clickedPositions.length ? Math.max(...clickedPositions) : -1;
  // No click: the user may have scanned the whole slate or left at the top; the cascade model says
  // a user who clicks nothing examined everything.
  return Array.from({ length: positions }, (_, k) => (last < 0 || k <= last ? 1 : 0));
}

/** Examination of a position under the PBM estimate (positions past the estimate take the last one). */
export function examinationAt(examination: number[], position: number): number {
  if (examination.length === 0) return 1;
  return examination[Math.min(position, examination.length - 1)];
}
