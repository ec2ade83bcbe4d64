/**
 * Kafka's default key partitioner (Java client `Utils.murmur2` + `toPositive(h) % partitions`, the
 * same as kafkajs' `Partitioners.DefaultPartitioner`). The embedded log uses it so that a key lands
 * on the same partition number in both adapters: state sharded by partition (e.g. per-user state in
 * a consumer group) then moves between the embedded and the real deployment unchanged.
 *
 * All arithmetic is 32-bit: kafkajs computes it with 64-bit Longs but only ever reads the low 32
 * bits, which are exactly what `Math.imul` and the 32-bit shifts below produce.
 */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  // Java's switch falls through 3 -> 2 -> 1; written as ifs (the compiler forbids fallthrough).
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a (UTF-8) key. */
export function partitionForKey(key: string | Buffer, partitions: number): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(data) & 0x7fffffff) % partitions;
}
