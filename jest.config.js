// One jest config, two projects: `unit` (*.spec.ts: unit, contract and app specs on the embedded
// adapters) and `integration` (*.int-spec.ts: real Kafka, PostgreSQL and Redis, started by the
// global setup through ops/infra-up.sh, which fails the run loudly when they cannot start).
// TypeScript runs through @swc/jest (see README "Tests" for the ts-jest comparison).
const { readdirSync } = require('node:fs');

// PGlite's CommonJS build loads its WASM and data files with dynamic import(), which jest's module
// sandbox only serves with Node's --experimental-vm-modules: set for the workers jest spawns. Specs
// always run in workers (workerIdleMemoryLimit below makes jest never run them in band), so a bare
// `npx jest <file>` gets the flag too.
if (!/--experimental-vm-modules/.test(process.env.NODE_OPTIONS ?? '')) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim();
}

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const libs = readdirSync(`${__dirname}/libs`);
const moduleNameMapper = { '^@recsys/testing/(.*)$': '<rootDir>/test/support/$1' };
for (const lib of libs) {
  moduleNameMapper[`^@recsys/${lib}$`] = `<rootDir>/libs/${lib}/src`;
  moduleNameMapper[`^@recsys/${lib}/(.*)$`] = `<rootDir>/libs/${lib}/src/$1`;
}

const common = {
  rootDir: __dirname,
  testEnvironment: '<rootDir>/test/support/jest-node.environment.js',
  transform: { '^.+\\.ts$': swc, '/node_modules/@nestjs/.+\\.js$': '<rootDir>/test/support/jest-esm-transform.js' },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/\\.venv', '<rootDir>/\\.data/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist', '<rootDir>/\\.venv'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test,bench,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test,bench,scripts}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/support/jest-infra.setup.js',
    },
  ],
  testTimeout: 180000,
  maxWorkers: Number(process.env.TEST_CONCURRENCY ?? 2),
  // Also recycles a worker whose heap grew past this after a spec file (native indexes, ONNX sessions).
  workerIdleMemoryLimit: '1536MB',
  forceExit: false,
};
