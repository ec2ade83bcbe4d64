/**
 * A content-marketplace simulator for ad-load policies. Each feed fetch comes from a user with a
 * latent ad tolerance tau ~ Beta(2, 2) (segment `heavy` users have a higher one on average) at a
 * fetch index k of their session (geometric) and an hour. The policy sees the segment, a noisy
 * tolerance bucket, k and the hour (the adload context), and chooses 0..3 ads. Outcomes:
 *   continuation   ~ Bernoulli(sigmoid(1.6 - 0.15 k - 1.1 a (1 - tau) + 0.3 heavy))
 *   clicks         ~ Bernoulli(0.35 - 0.04 a)
 *   hides          ~ Bernoulli(0.12 a (1 - tau))
 *   dwell_ms       = 30 s * (0.8 - 0.12 a (1 - tau)) (expected)
 *   revenue        = sum over the a ads of eCPM / 1000, eCPM ~ lognormal(ln 8 + 0.3 heavy, 0.5)
 * satisfaction and reward are apps/adload's (domain/reward.ts). The same draws in expectation give
 * the simulated truth of any policy (expected outcomes over a large fresh sample of contexts).
 */
import beta from '@stdlib/random-base-beta';
import normal from '@stdlib/random-base-normal';
import { NumpyRandomState } from '@recsys/ope';
import { DEFAULT_SATISFACTION } from '../../apps/adload/src/domain/reward';
import { contextKey } from '../../apps/adload/src/domain/policy';

export const ACTIONS = [0, 1, 2, 3];

export interface SimContext {
  key: string;
  tau: number;
  heavy: boolean;
  k: number;
  meanEcpm: number;
}

export class Marketplace {
  private readonly u: NumpyRandomState;
  private readonly b: (a: number, b: number) => number;
  private readonly n: (mu: number, s: number) => number;

  constructor(seed: number) {
    this.u = new NumpyRandomState(seed);
    this.b = beta.factory({ seed: seed + 1 });
    this.n = normal.factory({ seed: seed + 2 });
  }

  uniform(): number {
    return this.u.random();
  }

  context(): SimContext {
    const heavy = this.u.random() < 0.4;
    const tau = heavy ? this.b(3, 2) : this.b(2, 3);
    const noisy = Math.min(1, Math.max(0, tau + 0.15 * this.n(0, 1)));
    let k = 0;
    while (k < 12 && this.u.random() < 0.6) k++;
    const hour = this.u.randint(24);
    const key = contextKey({ surface: 'home', sessionFetchIndex: k, segment: heavy ? 'heavy' : 'casual', adTolerance: noisy, hour });
    return { key, tau, heavy, k, meanEcpm: 8 * Math.exp(0.3 * (heavy ? 1 : 0) + 0.125) };
  }

  /** Expected satisfaction and revenue of showing a ads in this context. */
  static expected(c: SimContext, a: number): { satisfaction: number; revenue: number } {
    const pCont = 1 / (1 + Math.exp(-(1.6 - 0.15 * c.k - 1.1 * a * (1 - c.tau) + 0.3 * (c.heavy ? 1 : 0))));
    const clicks = 0.35 - 0.04 * a;
    const hides = 0.12 * a * (1 - c.tau);
    const dwell = 0.8 - 0.12 * a * (1 - c.tau);
    const w = DEFAULT_SATISFACTION;
    return { satisfaction: pCont + w.click * clicks - w.hide * hides + w.dwell * dwell, revenue: (a * c.meanEcpm) / 1000 };
  }

  /** One realised outcome. */
  outcome(c: SimContext, a: number): { satisfaction: number; revenue: number } {
    const pCont = 1 / (1 + Math.exp(-(1.6 - 0.15 * c.k - 1.1 * a * (1 - c.tau) + 0.3 * (c.heavy ? 1 : 0))));
    const cont = this.u.random() < pCont ? 1 : 0;
    const clicks = this.u.random() < 0.35 - 0.04 * a ? 1 : 0;
    const hides = this.u.random() < 0.12 * a * (1 - c.tau) ? 1 : 0;
    const dwell = Math.max(0, Math.min(1, (0.8 - 0.12 * a * (1 - c.tau)) * (0.75 + 0.5 * this.u.random())));
    let rev = 0;
    for (let j = 0; j < a; j++) rev += Math.exp(Math.log(8) + 0.3 * (c.heavy ? 1 : 0) + 0.5 * this.n(0, 1)) / 1000;
    const w = DEFAULT_SATISFACTION;
    return { satisfaction: cont + w.click * clicks - w.hide * hides + w.dwell * dwell, revenue: rev };
  }
}
