/**
 * Reward of one decision from its joined outcome components:
 *   satisfaction = continued + wClick * clicks - wHide * hides + wDwell * min(1, dwell_ms / 30 s)
 *   revenue      = revenue_micros / 1e6 (currency units)
 *   reward       = satisfaction + lambda * revenue   (lambda per surface)
 */
export interface OutcomeComponents {
  clicks: number;
  hides: number;
  dwellMs: number;
  adClicks: number;
  revenueMicros: number;
  continued: boolean;
}

export interface SatisfactionWeights {
  click: number;
  hide: number;
  dwell: number;
}

export const DEFAULT_SATISFACTION: SatisfactionWeights = { click: 0.2, hide: 0.5, dwell: 0.3 };

export function satisfaction(o: OutcomeComponents, w: SatisfactionWeights = DEFAULT_SATISFACTION): number {
  return (o.continued ? 1 : 0) + w.click * o.clicks - w.hide * o.hides + w.dwell * Math.min(1, o.dwellMs / 30_000);
}

export function revenue(o: OutcomeComponents): number {
  return o.revenueMicros / 1e6;
}

export function reward(o: OutcomeComponents, lambda: number, w?: SatisfactionWeights): number {
  return satisfaction(o, w) + lambda * revenue(o);
}
