/**
 * The fill benchmark alone (for profiling: `node --cpu-prof dist/bench/ads/fill-only.js`):
 * node dist/bench/ads/fill-only.js [--campaigns 1000] [--requests 1000] [--concurrency 1] [--seed 1] [--ranking-isolation worker|inline]
 */
import { cli, int, names, runMain } from '../common/cli';
import { benchFill } from './fill';

runMain(async () => {
  const a = cli(
    process.argv.slice(2),
    { campaigns: { type: 'string' }, requests: { type: 'string' }, concurrency: { type: 'string' }, seed: { type: 'string' }, 'ranking-isolation': { type: 'string' } },
    'usage: node dist/bench/ads/fill-only.js [--campaigns 1000] [--requests 1000] [--concurrency 1] [--seed 1] [--ranking-isolation worker|inline]',
  );
  const r = await benchFill({
    campaigns: int(a.campaigns, '--campaigns', 1000),
    requests: int(a.requests, '--requests', 1000),
    candidates: 200,
    slots: 3,
    concurrency: int(a.concurrency, '--concurrency', 1),
    seed: int(a.seed, '--seed', 1),
    rankingIsolation: names(a['ranking-isolation'], '--ranking-isolation', ['worker', 'inline'] as const, ['worker'])[0],
  });
  console.log(JSON.stringify(r, null, 2));
});
