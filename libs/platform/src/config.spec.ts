import assert from 'node:assert/strict';
import { ConfigError, loadConfig, portOf } from './config';

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
});
