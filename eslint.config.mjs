// ESLint flat config: typescript-eslint's recommended rules, tuned to the style the code follows.
// Formatting is Prettier's (.prettierrc.json); the dependency rule stays a test
// (test/architecture.spec.ts). `npm run lint` runs it (the test runner too, once this file is
// named eslint.config.mjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's globals for the plain JavaScript files (the TypeScript ones get theirs from the compiler). */
const node = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextEncoder',
    'TextDecoder',
    'AbortController',
    'fetch',
    'performance',
    'structuredClone',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'globalThis',
  ].map((g) => [g, 'readonly']),
);
const commonjs = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

export default tseslint.config(
  {
    ignores: ['dist*/**', 'node_modules/**', '.venv*/**', 'bench/.venv/**', '.data/**', 'native/**', 'bench/results/**', 'coverage/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Unused names are errors, except deliberate ones: `_`-prefixed, and rest siblings
      // (`const { a, ...rest } = x` drops `a`).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `cond && f()` and `(a(), n++)` one-liners are part of the style.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // Version lookups (`require('x/package.json')`) and the lazily loaded optional engines.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['/package\\.json$'] }],
    },
  },
  {
    // Specs and test helpers: `any` for fakes and for poking at untyped responses.
    files: ['**/*.spec.ts', '**/*.int-spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Benchmarks and the demo seeder read other programs' JSON (peer libraries' output, the apps'
    // HTTP answers) field by field; typing every such payload would restate the producers' schemas.
    files: ['bench/**/*.ts', 'apps/suite/demo-seed.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript: Node scripts and the jest/ops helpers (CommonJS unless .mjs).
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, globals: { ...node, ...commonjs } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
