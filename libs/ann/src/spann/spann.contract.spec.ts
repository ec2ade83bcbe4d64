import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vectorIndexContract } from '../vector-index.contract';
import { SpannIndex } from './spann.index';

// The contract builds every index empty and fills it by upserts: this exercises SPANN's
// bootstrap (first list from the first insert) and growth by list splits, not the batch build.
const open: SpannIndex[] = [];
const dirs: string[] = [];
after(() => {
  for (const ix of open) ix.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spann-contract-'));
  dirs.push(d);
  return d;
}

vectorIndexContract(
  'SpannIndex (empty start, grown by upserts)',
  (dim, metric) => {
    const ix = SpannIndex.create({ dir: tempDir(), dim, metric });
    open.push(ix);
    return ix;
  },
  {
    minRecall: 0.9,
    load: async (dir) => {
      const ix = await SpannIndex.open(dir);
      open.push(ix);
      return ix;
    },
  },
);

// Small lists: hundreds of splits per test, and probes that cover only a fraction of the lists.
vectorIndexContract(
  'SpannIndex (empty start, postingCap 48, maxLists 12)',
  (dim, metric) => {
    const ix = SpannIndex.create({ dir: tempDir(), dim, metric, params: { postingCap: 48, maxLists: 12 } });
    open.push(ix);
    return ix;
  },
  { minRecall: 0.9 },
);
