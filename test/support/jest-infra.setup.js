// Global setup of the integration project: starts (or reuses) Kafka, PostgreSQL and Redis through
// ops/infra-up.sh and exports their addresses to the specs. If they cannot start, the run fails here,
// loudly: an integration spec is never skipped for want of a server.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function infraSetup() {
  const root = join(__dirname, '..', '..');
  execFileSync('bash', [join(root, 'ops/infra-up.sh')], { stdio: 'inherit' });
  const vars = execFileSync('bash', ['-c', `source ${join(root, 'ops/infra.env')} && echo "$TEST_KAFKA_BROKERS|$TEST_DATABASE_URL|$TEST_REDIS_URL"`])
    .toString()
    .trim()
    .split('|');
  process.env.TEST_KAFKA_BROKERS ??= vars[0];
  process.env.TEST_DATABASE_URL ??= vars[1];
  process.env.TEST_REDIS_URL ??= vars[2];
  process.env.TRAINING_PYTHON ??= join(root, '.venv-training/bin/python');
};
