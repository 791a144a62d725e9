#!/usr/bin/env node
'use strict';
// Builds the dev addon (native/dev/: test and benchmark entry points) beside the product addon:
// node-gyp with dev=1 added to GYP_DEFINES (sanitize=1, if set there, is kept), incrementally.
// A failed build fails `npm test` with its first error line: the native tests need it.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const defines = `${process.env.GYP_DEFINES ?? ''} dev=1`.trim();
const gyp = [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
const env = { ...process.env, GYP_DEFINES: defines };
for (const step of ['configure', 'build']) {
  const run = spawnSync(gyp[0], [gyp[1], step], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) {
    const why = `${run.stdout}\n${run.stderr}`.split('\n').find((l) => /error/i.test(l)) ?? `node-gyp ${step} failed`;
    console.error(`build-dev: the dev addon was not built: ${why.trim().slice(0, 160)}`);
    process.exit(1);
  }
}
