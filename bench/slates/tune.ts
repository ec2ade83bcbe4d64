/**
 * bench:slates --tune: the hyperparameters of every policy chosen on VALIDATION seeds (1001, 1002,
 * ...), never on the reported seeds (1, 2, ...): each policy's grid is run on the same validation
 * streams of every world, and the value kept is the one with the lowest mean over worlds of
 * (regret / greedy's regret on the same seed), so one value serves every world (no per-world tuning).
 */
import type { PolicyId } from '@recsys/bandits';
import { BanditAgent, makeStream, runAgent } from './simulate';
import type { World } from './worlds';

export interface PolicyParams {
  /** GaussianBeliefs.explore of in-slate TS */
  inSlateExplore: number;
  /** GaussianBeliefs.explore of slate-level TS */
  slateExplore: number;
  epsilon: number;
  /** Bayes-UCB quantile level; 0 = the 1 - 1/(t+1) schedule */
  ucbLevel: number;
}

/** What `--tune` chose (bench/results/slates-tuning.json); the reported runs use these. */
export const TUNED: PolicyParams = { inSlateExplore: 0.25, slateExplore: 0.1, epsilon: 0.01, ucbLevel: 0.9 };

export const GRID: Record<keyof PolicyParams, { policy: PolicyId; values: number[] }> = {
  inSlateExplore: { policy: 'in-slate-ts', values: [0.1, 0.25, 0.5, 1] },
  slateExplore: { policy: 'slate-ts', values: [0.1, 0.25, 0.5, 1] },
  epsilon: { policy: 'epsilon-greedy', values: [0.01, 0.02, 0.05, 0.1] },
  ucbLevel: { policy: 'bayes-ucb', values: [0, 0.6, 0.75, 0.9] },
};

export function agentOptions(policy: PolicyId, p: PolicyParams) {
  switch (policy) {
    case 'in-slate-ts':
      return { explore: p.inSlateExplore };
    case 'slate-ts':
      return { explore: p.slateExplore };
    case 'epsilon-greedy':
      return { epsilon: p.epsilon };
    case 'bayes-ucb':
      return p.ucbLevel > 0 ? { ucbLevel: p.ucbLevel } : {};
    default:
      return {};
  }
}

const optionFor = (key: keyof PolicyParams, v: number) => (key === 'epsilon' ? { epsilon: v } : key === 'ucbLevel' ? (v > 0 ? { ucbLevel: v } : {}) : { explore: v });

export async function tune(worlds: World[], seeds: number, T: number, log: (s: string) => void) {
  const rows: { world: string; seed: number; param: string; value: number; regret: number; greedy: number }[] = [];
  for (const world of worlds)
    for (let s = 0; s < seeds; s++) {
      const seed = 1001 + s;
      const stream = makeStream(world, seed, T);
      const greedy = (await runAgent(world, stream, seed, new BanditAgent(world, stream, 'greedy', seed))).regret.at(-1)!;
      rows.push({ world: world.name, seed, param: 'greedy', value: 0, regret: greedy, greedy });
      for (const key of Object.keys(GRID) as (keyof PolicyParams)[])
        for (const v of GRID[key].values) {
          const r = await runAgent(world, stream, seed, new BanditAgent(world, stream, GRID[key].policy, seed, { ...optionFor(key, v), label: `${key}=${v}` }));
          rows.push({ world: world.name, seed, param: key, value: v, regret: r.regret.at(-1)!, greedy });
          log(`tune ${world.name} seed ${seed}: ${key}=${v} regret ${r.regret.at(-1)!.toFixed(1)} (greedy ${greedy.toFixed(1)})`);
        }
    }
  const chosen = {} as PolicyParams;
  const scores: Record<string, Record<string, number>> = {};
  for (const key of Object.keys(GRID) as (keyof PolicyParams)[]) {
    scores[key] = {};
    for (const v of GRID[key].values) {
      const perWorld = worlds.map((w) => {
        const rs = rows.filter((r) => r.world === w.name && r.param === key && r.value === v);
        return rs.reduce((a, r) => a + r.regret / r.greedy, 0) / rs.length;
      });
      scores[key][String(v)] = perWorld.reduce((a, b) => a + b, 0) / perWorld.length;
    }
    chosen[key] = Number(Object.entries(scores[key]).sort((a, b) => a[1] - b[1])[0][0]);
  }
  return { validationSeeds: Array.from({ length: seeds }, (_, s) => 1001 + s), requests: T, grid: GRID, score: 'mean over worlds of mean over seeds of regret / greedy regret', scores, chosen, rows };
}
