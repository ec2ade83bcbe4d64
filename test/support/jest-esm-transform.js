// Transforms the ESM-only packages jest's CommonJS sandbox has to require (NestJS 12 ships ESM
// only; Node 20 runs it through require(esm), which jest's module registry does not emulate before
// Node 24.9) into CommonJS with swc. `import.meta.url` has no CommonJS form, so it becomes the
// file URL of the module, which is all these packages use it for (createRequire).
const { createTransformer } = require('@swc/jest');

const swc = createTransformer({
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022', keepClassNames: true },
  module: { type: 'commonjs', ignoreDynamic: false },
  sourceMaps: false,
});
const VERSION = 'esm-to-cjs-2';
const rewrite = (src) => src.replace(/\bimport\.meta\.url\b/g, '`file://${__filename}`');

module.exports = {
  process: (src, path, options) => swc.process(rewrite(src), path, options),
  getCacheKey: (src, path, options) => `${VERSION}:${swc.getCacheKey(rewrite(src), path, options)}`,
};
