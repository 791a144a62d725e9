#!/usr/bin/env node
'use strict';
// npm's install hook. Uses a prebuilt binary when one fits this platform (prebuilds/); else
// builds the addon from source; when that fails too (no compiler, no headers), the install
// still succeeds: the TypeScript engine runs, and one line says why.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const target = `${process.platform}-${process.arch}`;

/** null when the addon loads (prebuilt or built), else the first line of why not. */
function loadError() {
  try {
    require('node-gyp-build')(root);
    return null;
  } catch (err) {
    return String((err && err.message) || err).split('\n')[0];
  }
}

/** node-gyp: the package's own when installed with dev dependencies, else the one npm provides on PATH. */
function nodeGyp() {
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

/** Why a build failed, in a few words: the known causes first, else its first error line. */
function reason(output) {
  const known = [
    [/Could not find any Python/, 'no Python found'],
    [/not found: (make|g\+\+|gcc|cc|c\+\+)/, (m) => `${m[1]} not found`],
    [/network connectivity|ENOTFOUND|EAI_AGAIN|ECONNREFUSED/, 'could not download the Node.js headers'],
    [/(\S+): (command )?not found/, (m) => `${m[1]} not found`],
  ];
  for (const [pattern, say] of known) {
    const m = pattern.exec(output);
    if (m) return typeof say === 'function' ? say(m) : say;
  }
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? 'unknown error';
  return first.replace(/^gyp ERR! (stack )?/, '').slice(0, 160);
}

if (process.env.npm_config_build_from_source !== 'true' && loadError() === null) process.exit(0);

const [cmd, ...args] = nodeGyp();
const build = spawnSync(cmd, [...args, 'rebuild'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const output = `${build.stdout ?? ''}\n${build.stderr ?? ''}${build.error ? `\n${build.error.message}` : ''}`;
// The whole build output, for whoever needs more than the one line.
if (process.env.MEMCACHE_HA_NATIVE_INSTALL_VERBOSE === '1') process.stderr.write(output);
if (build.status === 0 && loadError() === null) {
  console.log(`memcache-ha-native: no prebuilt binary for ${target}: built the native addon from source`);
} else {
  console.log(
    `memcache-ha-native: no prebuilt binary for ${target} and building from source failed (${reason(output)}): ` +
      'the TypeScript engine will run (see "memcache-ha-native doctor")',
  );
}
process.exit(0);
