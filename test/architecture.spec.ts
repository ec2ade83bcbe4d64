import assert from 'node:assert/strict';
import { checkFile, checkRepo, importsOf, repoRoot } from '../scripts/dependency-rules';

describe('dependency rule', () => {
  it('finds imports in every syntax', () => {
    const src = `import a from 'x';\nimport type { B } from "../y";\nexport * from './z';\nconst c = require('w');\nimport 'side';\n// import nope from 'commented';`;
    assert.deepEqual(importsOf(src).sort(), ['../y', './z', 'side', 'w', 'x'].sort());
  });

  it('rejects a lib importing an app', () => {
    const v = checkFile('libs/sdim/src/a.ts', `import { x } from '../../../apps/behavior/src/b';`);
    assert.equal(v.length, 1);
    assert.match(v[0].rule, /libs never import apps/);
  });

  it('rejects drivers and frameworks in algorithm libs, allows ports and the hnswlib addon in ann', () => {
    assert.equal(checkFile('libs/sdim/src/a.ts', `import Redis from 'ioredis';`).length, 1);
    assert.equal(checkFile('libs/ann/src/a.ts', `import { Injectable } from '@nestjs/common';`).length, 1);
    assert.equal(checkFile('libs/messaging/src/a.ts', `import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';`).length, 1);
    assert.deepEqual(checkFile('libs/messaging/src/a.ts', `import type { EventBus } from '@recsys/infra/event-bus/event-bus.port';`), []);
    assert.deepEqual(checkFile('libs/ann/src/a.ts', `import { HierarchicalNSW } from 'hnswlib-node'; import { z } from 'zod'; import { readFileSync } from 'node:fs';`), []);
    assert.deepEqual(checkFile('libs/ann/src/b.ts', `import { NativeHnswIndex } from '@recsys/hnsw-native';`), [], 'ann may use the in-repo addon');
    assert.equal(checkFile('libs/sdim/src/b.ts', `import { NativeHnswIndex } from '@recsys/hnsw-native';`).length, 1, 'no other algorithm lib may');
    assert.equal(checkFile('libs/sdim/src/a.ts', `import { HierarchicalNSW } from 'hnswlib-node';`).length, 1);
    assert.deepEqual(checkFile('libs/ope/src/a.ts', `import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';`), [], 'stdlib math is pure');
  });

  it('requires the @recsys/<lib> alias for a lib imported from outside it; relative imports stay inside a lib', () => {
    const v = checkFile('apps/gateway/src/a.ts', `import { loadConfig } from '../../../libs/platform/src';`);
    assert.equal(v.length, 1);
    assert.match(v[0].rule, /@recsys\/platform/);
    assert.equal(checkFile('libs/messaging/src/a.ts', `import type { EventBus } from '../../infra/src/event-bus/event-bus.port';`).length, 1);
    assert.equal(checkFile('test/e2e/x.spec.ts', `import { TOPICS } from '../../libs/contracts/src';`).length, 1);
    assert.deepEqual(checkFile('libs/ann/src/spann/a.ts', `import { topK } from '../topk';`), []);
    assert.deepEqual(checkFile('apps/gateway/src/a.ts', `import { loadConfig } from '@recsys/platform';`), []);
  });

  it('rejects an app importing another app, but not the suite assembling them', () => {
    assert.equal(checkFile('apps/gateway/src/a.ts', `import { x } from '../../retrieval/src/y';`).length, 1);
    assert.deepEqual(checkFile('apps/suite/apps.ts', `import { x } from '../retrieval/src/y';`), []);
  });

  it('holds for the whole repository', () => {
    const violations = checkRepo(repoRoot());
    assert.deepEqual(violations, [], violations.map((v) => `${v.file} -> ${v.specifier}: ${v.rule}`).join('\n'));
  });
});
