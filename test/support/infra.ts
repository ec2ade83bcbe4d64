/**
 * Addresses of the real servers for integration specs. The test runner (scripts/run-tests.mjs)
 * starts them through ops/infra-up.sh and exports these variables; a spec that runs without them
 * fails loudly instead of skipping.
 */
export interface RealInfra {
  kafkaBrokers: string[];
  databaseUrl: string;
  redisUrl: string;
}

export function realInfra(): RealInfra {
  const missing = ['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL', 'TEST_REDIS_URL'].filter((k) => !process.env[k]);
  if (missing.length) {
    throw new Error(`integration spec needs real servers: ${missing.join(', ')} unset. Run through 'npm test' (which starts them via ops/infra-up.sh).`);
  }
  return {
    kafkaBrokers: process.env.TEST_KAFKA_BROKERS!.split(','),
    databaseUrl: process.env.TEST_DATABASE_URL!,
    redisUrl: process.env.TEST_REDIS_URL!,
  };
}

/** A name no other test run uses (topics, groups, key prefixes). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
