import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpannIndex } from './spann.index';

/**
 * Test support for SPANN specs: temporary index directories and the indexes opened in them,
 * closed and deleted after the spec file's tests (push every opened index onto `open`).
 */
export function spannFixtures(prefix: string): { open: SpannIndex[]; tempDir(): string } {
  const dirs: string[] = [];
  const open: SpannIndex[] = [];
  afterAll(() => {
    for (const ix of open) ix.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return {
    open,
    tempDir() {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
