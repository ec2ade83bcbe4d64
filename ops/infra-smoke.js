#!/usr/bin/env node
// Smoke test of the servers ops/infra-up.sh starts, with the clients the suite uses:
//   Kafka: kafkajs produce -> consume round trip on a fresh topic (then deletes it)
//   PostgreSQL: pg `select 1` as recsys
//   Redis: ioredis PING + SET/GET
// Addresses from TEST_KAFKA_BROKERS / TEST_DATABASE_URL / TEST_REDIS_URL, defaulting to ops/infra.env's.
// Usage: node ops/infra-smoke.js   (exit 0 when all pass)
'use strict';
const path = require('path');
const { createRequire } = require('module');
const req = createRequire(path.join(__dirname, '..', 'package.json'));

const brokers = (process.env.TEST_KAFKA_BROKERS || '127.0.0.1:19092').split(',');
const databaseUrl = process.env.TEST_DATABASE_URL || 'postgres://recsys:recsys@127.0.0.1:15432/recsys';
const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:16379';

async function kafkaRoundTrip() {
  const { Kafka, logLevel } = req('kafkajs');
  const kafka = new Kafka({ clientId: 'recsys-infra-smoke', brokers, logLevel: logLevel.NOTHING });
  const topic = `infra-smoke-${process.pid}-${Date.now().toString(36)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `${topic}-g` });
  const t0 = Date.now();
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message consumed within 30s')), 30000);
      consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value.toString());
        },
      });
    });
    const sent = `hello-${Math.random().toString(36).slice(2)}`;
    await producer.send({ topic, messages: [{ key: 'k', value: sent }] });
    const value = await got;
    if (value !== sent) throw new Error(`consumed ${value}, expected ${sent}`);
    return `kafka     produce/consume round trip ok (${Date.now() - t0} ms incl. group join)`;
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

async function pgSelect() {
  const { Client } = req('pg');
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query('select 1 as one, current_user as u, current_database() as db');
    const row = r.rows[0];
    if (row.one !== 1) throw new Error('select 1 returned ' + JSON.stringify(row));
    return `postgres  select 1 ok as ${row.u} on ${row.db}`;
  } finally {
    await c.end();
  }
}

async function redisPing() {
  const mod = req('ioredis');
  const Redis = mod.default || mod.Redis || mod;
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    const pong = await r.ping();
    const key = `infra-smoke:${process.pid}`;
    await r.set(key, 'v', 'EX', 10);
    const v = await r.get(key);
    await r.del(key);
    if (pong !== 'PONG' || v !== 'v') throw new Error(`ping=${pong} get=${v}`);
    return 'redis     PING + SET/GET ok';
  } finally {
    r.disconnect();
  }
}

(async () => {
  let failed = 0;
  for (const [name, fn] of [
    ['redis', redisPing],
    ['postgres', pgSelect],
    ['kafka', kafkaRoundTrip],
  ]) {
    try {
      console.log(await fn());
    } catch (err) {
      failed++;
      console.error(`${name.padEnd(9)} FAILED: ${err && err.stack ? err.stack : err}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
