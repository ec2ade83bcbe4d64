import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadMigrationFiles, migrationsDir } from './migrate';

describe('migration files', () => {
  const dirs: string[] = [];
  const folder = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-spec-'));
    for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('orders by number, pairs down files, ignores non-SQL files', () => {
    const dir = folder({
      '10000_later.up.sql': 'SELECT 1;',
      '0002_b.up.sql': 'SELECT 1;',
      '0002_b.down.sql': 'SELECT 1;',
      '0001_a.up.sql': 'SELECT 1;',
      'README.md': '# notes',
    });
    const files = loadMigrationFiles(dir);
    assert.deepEqual(
      files.map((f) => [f.name, f.downPath !== undefined]),
      [
        ['0001_a', false],
        ['0002_b', true],
        ['10000_later', false],
      ],
    );
  });

  it('rejects badly named files, a shared number, an orphan down file and transaction control', () => {
    assert.throws(() => loadMigrationFiles(folder({ '1_short.up.sql': '' })), /NNNN/);
    assert.throws(() => loadMigrationFiles(folder({ '0001_Upper.up.sql': '' })), /NNNN/);
    assert.throws(() => loadMigrationFiles(folder({ '0001_x.sql': '' })), /NNNN/);
    assert.throws(() => loadMigrationFiles(folder({ '0001_a.up.sql': '', '0001_b.up.sql': '' })), /share the number 0001/);
    assert.throws(() => loadMigrationFiles(folder({ '0001_a.down.sql': '' })), /no matching \.up\.sql/);
    assert.throws(() => loadMigrationFiles(folder({ '0001_a.up.sql': 'BEGIN;\nCREATE TABLE t (x int);\nCOMMIT;' })), /transaction control/);
  });

  it('accepts a plpgsql body, whose BEGIN ... END; is not transaction control', () => {
    const body = `CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;`;
    assert.equal(loadMigrationFiles(folder({ '0001_fn.up.sql': body })).length, 1);
  });

  it('finds the repository migrations folder from the sources and from any compiled output dir', () => {
    const repo = resolve(__dirname, migrationsDir(), '..');
    assert.equal(migrationsDir(join(repo, 'libs/infra/src/sql')), join(repo, 'migrations'));
    assert.equal(migrationsDir(join(repo, 'dist/libs/infra/src/sql')), join(repo, 'migrations'));
    assert.equal(migrationsDir(__dirname), join(repo, 'migrations'));
    assert.ok(loadMigrationFiles(migrationsDir()).some((f) => f.name === '0001_platform' && f.downPath));
  });

  it('skips a folder holding package.json but no migrations/ (a compiled dist with package.json)', () => {
    const root = mkdtempSync(join(tmpdir(), 'migrate-walk-'));
    dirs.push(root);
    mkdirSync(join(root, 'migrations'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'dist/libs'), { recursive: true });
    writeFileSync(join(root, 'dist/package.json'), '{}');
    assert.equal(migrationsDir(join(root, 'dist/libs')), join(root, 'migrations'));
  });
});
