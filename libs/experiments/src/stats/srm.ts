import { chi2Sf } from './distributions';

/** p < this raises the sample-ratio-mismatch alarm (GrowthBook's default threshold). */
export const SRM_ALARM_P = 0.001;

/**
 * Sample-ratio mismatch: chi-square goodness of fit of observed users per variant against the
 * configured weights (gbstats utils.check_srm). Variants with weight 0 are skipped in the sum.
 */
export function srmPValue(users: number[], weights: number[]): number {
  const total = users.reduce((s, x) => s + x, 0);
  if (!total) return 1;
  const totalWeight = weights.reduce((s, x) => s + x, 0);
  let x2 = 0;
  users.forEach((o, i) => {
    if (weights[i] <= 0) return;
    const e = (weights[i] / totalWeight) * total;
    x2 += (o - e) ** 2 / e;
  });
  return chi2Sf(x2, users.length - 1);
}

export function srmCheck(users: number[], weights: number[], threshold = SRM_ALARM_P) {
  const pValue = srmPValue(users, weights);
  return { pValue, alarm: pValue < threshold };
}
