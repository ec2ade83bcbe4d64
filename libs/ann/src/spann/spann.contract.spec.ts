import { vectorIndexContract } from '../vector-index.contract';
import { SpannIndex } from './spann.index';
import { spannFixtures } from './spec-fixtures';

// The contract builds every index empty and fills it by upserts: this exercises SPANN's
// bootstrap (first list from the first insert) and growth by list splits, not the batch build.
const { open, tempDir } = spannFixtures('spann-contract-');

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
