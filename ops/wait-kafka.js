#!/usr/bin/env node
// One metadata round trip to a Kafka broker with kafkajs (from the repo's node_modules).
// Exit 0 when the cluster answers DescribeCluster with at least one broker, 1 otherwise.
// Usage: node ops/wait-kafka.js [host:port[,host:port...]] [timeoutMs]
'use strict';
const path = require('path');
const { createRequire } = require('module');
const repoRequire = createRequire(path.join(__dirname, '..', 'package.json'));
const { Kafka, logLevel } = repoRequire('kafkajs');

const brokers = (process.argv[2] || '127.0.0.1:19092').split(',');
const timeoutMs = Number(process.argv[3] || 3000);

async function main() {
  const kafka = new Kafka({
    clientId: 'recsys-infra-wait',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 2000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  const timer = setTimeout(() => {
    console.error('timeout');
    process.exit(1);
  }, timeoutMs + 500);
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers || cluster.brokers.length === 0) throw new Error('no brokers in metadata');
    console.log(`kafka ok: controller=${cluster.controller} brokers=${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')}`);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`kafka not ready: ${err && err.message ? err.message : err}`);
    process.exit(1);
  },
);
