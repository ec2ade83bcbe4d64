/**
 * Writes libs/sdim/test-vectors/sdim-v1.json (the vectors the Python side must reproduce).
 * Usage: node dist/libs/sdim/scripts/gen-test-vectors.js [--out PATH]
 * The file is committed; the unit spec fails when the code no longer produces it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildTestVectors } from '../src/test-vectors';

function main(): void {
  const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
  const out = values.out ?? join(__dirname, '..', '..', '..', '..', 'libs', 'sdim', 'test-vectors', 'sdim-v1.json');
  const v = buildTestVectors();
  writeFileSync(out, JSON.stringify(v, null, 1) + '\n');
  console.log(`wrote ${out}: ${v.behaviors.length} behaviours, ${v.candidates.length} candidates, m=${v.config.m} tau=${v.config.tau} d=${v.config.d}`);
}

main();
