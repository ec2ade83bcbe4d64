import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogIndex } from './catalog-index';
import { DefaultIndexFactory } from './index-factory';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tempRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'retrieval-gc-'));
  roots.push(d);
  return d;
}

function fill(index: CatalogIndex, namespace: string, n: number, offset: number): Promise<void> {
  return (async () => {
    for (let i = 0; i < n; i++) {
      await index.apply(
        { op: 'upsert', namespace, itemId: `${namespace}-${offset + i}`, embedding: [Math.sin(offset + i), Math.cos(offset + i), (offset + i) / 300, 1] },
        { topic: 'catalog.items', partition: 0, offset: String(offset + i) },
      );
    }
  })();
}

describe('retrieval: garbage collection of superseded SPANN working dirs and snapshots', () => {
  it('keeps the live working dirs and the newest snapshot; removes what earlier processes and rebuilds left', async () => {
    const data = tempRoot();
    const snapshots = join(data, 'snapshots');
    // Process 1: an index, two snapshots (the first is superseded and removed by the second).
    const f1 = new DefaultIndexFactory(data);
    const c1 = new CatalogIndex(f1, { kind: 'spann', metric: 'l2' });
    await fill(c1, 'items', 300, 0);
    await c1.snapshot(snapshots);
    await fill(c1, 'items', 50, 300);
    await c1.snapshot(snapshots);
    const snapDirs = readdirSync(snapshots).filter((n) => n !== 'manifest.json');
    assert.equal(snapDirs.length, 1, 'an earlier snapshot folder is removed when the next manifest lands');
    // A crash between writing a snapshot folder and its manifest leaves an orphan folder.
    mkdirSync(join(snapshots, 'items-orphan'));
    writeFileSync(join(snapshots, 'items-orphan', 'spann.postings'), 'partial');
    const liveOfP1 = readdirSync(join(data, 'spann-live'));
    assert.equal(liveOfP1.length, 1);

    // Process 2 (restart): restores into a fresh working dir; process 1's dir and the orphan go.
    const f2 = new DefaultIndexFactory(data);
    const c2 = new CatalogIndex(f2, { kind: 'spann', metric: 'l2' });
    assert.equal(await c2.restore(snapshots), true);
    const removed = await f2.collectGarbage();
    assert.deepEqual(removed, [join(data, 'spann-live', liveOfP1[0])]);
    assert.deepEqual(await c2.pruneSnapshots(snapshots), ['items-orphan']);
    assert.deepEqual(Array.from(readdirSync(snapshots)).sort(), ['manifest.json', snapDirs[0]].sort());
    const live = readdirSync(join(data, 'spann-live'));
    assert.equal(live.length, 1, 'the restored index has its own working dir');
    assert.equal(c2.get('items')?.size(), 350);
    assert.equal(c2.search('items', [Math.sin(7), Math.cos(7), 7 / 300, 1], 1)[0].id, 'items-7');

    // A rebuild swaps in a fresh index: the replaced one is released (closed, dir deleted).
    const fresh = f2.create('spann', 'items', 4, 'l2');
    fresh.upsert('only', [0, 0, 0, 1]);
    const replaced = await c2.replaceUnlocked('items', fresh);
    assert.ok(replaced);
    await f2.release(replaced);
    const after2 = readdirSync(join(data, 'spann-live'));
    assert.equal(after2.length, 1);
    assert.notEqual(after2[0], live[0]);
    assert.ok(!existsSync(join(data, 'spann-live', live[0])));
    assert.deepEqual(await f2.collectGarbage(), [], 'nothing left to collect: the live index owns its dir');
    assert.equal(c2.search('items', [0, 0, 0, 1], 1)[0].id, 'only');
  });
});
