// The node test environment with the host realm's typed arrays. jest runs each spec file in its own
// vm context, whose Float32Array is not the one native addons (onnxruntime-node, the hnswlib
// bindings) and PGlite check against with instanceof; sharing the host's keeps one realm for
// binary data, as the code sees in production.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

module.exports = class HostTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
};
