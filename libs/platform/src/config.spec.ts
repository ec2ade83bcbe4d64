import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, loadConfig, loadProcessConfig, portOf } from './config';

describe('config', () => {
  it('defaults to embedded adapters and the documented ports', () => {
    const c = loadConfig({});
    assert.equal(c.KAFKA_BROKERS, undefined);
    assert.equal(c.DATABASE_URL, undefined);
    assert.equal(portOf(c, 'gateway'), 3000);
    assert.equal(portOf(c, 'experiments'), 3006);
    assert.equal(portOf(c, 'ads'), 3007);
    assert.equal(c.APPS.length, 8);
  });

  it('lists every bad key at once', () => {
    try {
      loadConfig({ KAFKA_BROKERS: 'nohost', DATABASE_URL: 'mysql://x', RETRIEVAL_PORT: '99999', APPS: 'gateway,nope', LOG_LEVEL: 'loud' });
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      const keys = e.problems.map((p) => p.key).sort();
      assert.deepEqual(keys, ['APPS', 'DATABASE_URL', 'KAFKA_BROKERS', 'LOG_LEVEL', 'RETRIEVAL_PORT']);
      assert.match(e.message, /unknown app\(s\) nope/);
    }
  });

  it('parses the behaviour types that enter the tables and rejects unknown ones', () => {
    assert.deepEqual(loadConfig({ BEHAVIOR_TABLE_TYPES: 'click, purchase' }).BEHAVIOR_TABLE_TYPES, ['click', 'purchase']);
    assert.throws(() => loadConfig({ BEHAVIOR_TABLE_TYPES: 'click,teleport' }), /BEHAVIOR_TABLE_TYPES: unknown behaviour type\(s\) teleport/);
  });

  it('accepts real-server URLs', () => {
    const c = loadConfig({ KAFKA_BROKERS: '127.0.0.1:19092,h2:9092', DATABASE_URL: 'postgres://u:p@h:5432/db', REDIS_URL: 'redis://h:6379' });
    assert.equal(c.KAFKA_BROKERS, '127.0.0.1:19092,h2:9092');
  });

  it("validates the selected apps' own settings with the suite's, listing every bad key of all of them", () => {
    const slates = { name: 'slates', config: z.object({ SLATES_POSITIONS: z.coerce.number().int().min(1).default(20) }) };
    const ads = { name: 'ads', config: z.object({ ADS_RESERVE: z.coerce.number().min(0).default(0) }) };
    const bad = { GATEWAY_PORT: 'abc', SLATES_POSITIONS: '0', ADS_RESERVE: '-1' };
    assert.throws(
      () => loadProcessConfig(bad, [slates, ads]),
      (e: unknown) => e instanceof ConfigError && ['GATEWAY_PORT', 'SLATES_POSITIONS', 'ADS_RESERVE'].every((k) => e.problems.some((p) => p.key === k)),
    );
    // An app that is not selected is not checked; valid settings pass.
    assert.equal(loadProcessConfig({ APPS: 'slates', ADS_RESERVE: '-1' }, [slates, ads]).APPS.join(), 'slates');
    assert.throws(() => loadProcessConfig({ APPS: 'slates', SLATES_POSITIONS: 'x' }, [slates, ads]), ConfigError);
  });
});
