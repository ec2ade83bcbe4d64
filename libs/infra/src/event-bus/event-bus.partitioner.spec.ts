import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { murmur2, partitionForKey } from './event-bus.partitioner';

// kafkajs' own implementation (64-bit Long arithmetic), the reference for the real adapter.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2: (key: Buffer | string) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

describe('murmur2 partitioner', () => {
  it('matches the Java client (Kafka Utils.murmur2 test vectors)', () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) assert.equal(murmur2(Buffer.from(key)), hash, key);
  });

  it('matches kafkajs DefaultPartitioner on random keys of every tail length', () => {
    for (let i = 0; i < 5_000; i++) {
      const key = randomBytes(i % 41);
      assert.equal(murmur2(key), kafkajsMurmur2(key), key.toString('hex'));
    }
    for (const key of ['user-1', 'ключ-🔑', '']) assert.equal(partitionForKey(key, 7), (kafkajsMurmur2(key) & 0x7fffffff) % 7, key);
  });
});
