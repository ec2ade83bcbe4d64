/**
 * The fill benchmark alone (for profiling: `node --cpu-prof dist/bench/ads/fill-only.js`):
 * node dist/bench/ads/fill-only.js [--campaigns 1000] [--requests 1000] [--concurrency 1] [--seed 1]
 */
import { cli, int, runMain } from '../common/cli';
import { benchFill } from './fill';

runMain(async () => {
  const a = cli(
    process.argv.slice(2),
    { campaigns: { type: 'string' }, requests: { type: 'string' }, concurrency: { type: 'string' }, seed: { type: 'string' } },
    'usage: node dist/bench/ads/fill-only.js [--campaigns 1000] [--requests 1000] [--concurrency 1] [--seed 1]',
  );
  const r = await benchFill({
    campaigns: int(a.campaigns, '--campaigns', 1000),
    requests: int(a.requests, '--requests', 1000),
    candidates: 200,
    slots: 3,
    concurrency: int(a.concurrency, '--concurrency', 1),
    seed: int(a.seed, '--seed', 1),
  });
  console.log(JSON.stringify(r, null, 2));
});
