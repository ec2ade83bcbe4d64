import { NumpyRandomState } from './rng';
import type { BanditFeedback } from './estimators';

/**
 * A small synthetic contextual bandit with a known truth, for the estimators' statistical specs
 * and examples: `nContexts` context types (uniform), Bernoulli rewards with
 * q(x, a) = sigmoid(theta_x . phi_a), a softmax logging policy and a different softmax evaluation
 * policy, and a deliberately biased reward model (qHat = q + bias), so DR's unbiasedness does not
 * lean on a correct model.
 */
export interface SyntheticBandit {
  nContexts: number;
  nActions: number;
  /** q[x * nActions + a] */
  q: Float64Array;
  logging: Float64Array;
  evaluation: Float64Array;
  /** The evaluation policy's true value. */
  truth: number;
}

export function makeSyntheticBandit(seed: number, nContexts = 6, nActions = 5, temperature = 1): SyntheticBandit {
  const rs = new NumpyRandomState(seed);
  const q = new Float64Array(nContexts * nActions);
  for (let k = 0; k < q.length; k++) q[k] = 1 / (1 + Math.exp(-(3 * rs.random() - 2)));
  const softmax = (scores: (x: number, a: number) => number) => {
    const p = new Float64Array(nContexts * nActions);
    for (let x = 0; x < nContexts; x++) {
      let z = 0;
      for (let a = 0; a < nActions; a++) z += p[x * nActions + a] = Math.exp(scores(x, a));
      for (let a = 0; a < nActions; a++) p[x * nActions + a] /= z;
    }
    return p;
  };
  const noise = Float64Array.from({ length: q.length }, () => rs.random());
  const logging = softmax((x, a) => noise[x * nActions + a]);
  const evaluation = softmax((x, a) => (4 * q[x * nActions + a]) / temperature);
  let truth = 0;
  for (let x = 0; x < nContexts; x++) for (let a = 0; a < nActions; a++) truth += (evaluation[x * nActions + a] * q[x * nActions + a]) / nContexts;
  return { nContexts, nActions, q, logging, evaluation, truth };
}

/** n logged rounds from the bandit's logging policy (lenList 1), with the biased reward model. */
export function sampleSyntheticFeedback(b: SyntheticBandit, n: number, seed: number, modelBias = 0.1): BanditFeedback {
  const rs = new NumpyRandomState(seed);
  const A = b.nActions;
  const reward = new Float64Array(n);
  const action = new Int32Array(n);
  const pscore = new Float64Array(n);
  const actionDist = new Float64Array(n * A);
  const qHat = new Float64Array(n * A);
  for (let i = 0; i < n; i++) {
    const x = rs.randint(b.nContexts);
    let u = rs.random();
    let a = A - 1;
    for (let k = 0; k < A; k++) {
      u -= b.logging[x * A + k];
      if (u < 0) {
        a = k;
        break;
      }
    }
    action[i] = a;
    pscore[i] = b.logging[x * A + a];
    reward[i] = rs.random() < b.q[x * A + a] ? 1 : 0;
    for (let k = 0; k < A; k++) {
      actionDist[i * A + k] = b.evaluation[x * A + k];
      qHat[i * A + k] = Math.min(1, Math.max(0, b.q[x * A + k] + (k % 2 === 0 ? modelBias : -modelBias)));
    }
  }
  return { reward, action, pscore, nActions: A, lenList: 1, actionDist, qHat };
}
