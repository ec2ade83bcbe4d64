'use strict';
// Loads the compiled addon (built by `node-gyp rebuild` on npm install/ci; see README.md).
const { join } = require('node:path');

function load() {
  const tried = [];
  for (const dir of ['Release', 'Debug']) {
    const file = join(__dirname, 'build', dir, 'sdim_native.node');
    try {
      return require(file);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      tried.push(file);
    }
  }
  throw new Error(
    `@recsys/sdim-native is not built (looked for ${tried.join(', ')}): run "npm rebuild @recsys/sdim-native" ` +
      '(needs g++, make, python3 and the Node headers; npm_config_nodedir=/usr uses local ones)',
  );
}

module.exports = load();
