#!/usr/bin/env node
'use strict';
// Runs the C++ unit tests (when the native engine is tested), then the uvu suite once per
// engine (TEST_ENGINES=native,ts by default), bounded in time, then checks that no test left a
// server running, and ends with one "N passed, N failed" line.
const { spawn, spawnSync } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const engines = (process.env.TEST_ENGINES || 'native,ts').split(',').filter(Boolean);
const LIMIT_MS = Number(process.env.TEST_TIMEOUT_MS || 10 * 60 * 1000);
const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
const RUN_MARK = 'MCHA_TEST_RUN';

/** Every *.test.ts under test/, as its path relative to test/ without ".ts". */
function testSources(dir = path.join(root, 'test'), prefix = '') {
  const found = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) found.push(...testSources(path.join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.name.endsWith('.test.ts')) found.push(prefix + e.name.slice(0, -'.ts'.length));
  }
  return found;
}

// Only the compiled files of tests that exist in test/: tsc leaves the output of a moved or
// deleted test in dist/, which would otherwise run too.
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const PATTERN = `^(?:${testSources().map(escape).join('|')})\\.js$`;

function runEngine(engine) {
  return new Promise((resolve) => {
    console.log(`\n=== engine ${engine} ===`);
    const child = spawn(process.execPath, [uvu, 'dist/test', PATTERN], {
      cwd: root,
      env: { ...process.env, TEST_ENGINE: engine, NO_COLOR: '1', FORCE_COLOR: '0', [RUN_MARK]: String(process.pid) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    const timer = setTimeout(() => {
      console.error(`engine ${engine}: the suite ran past ${LIMIT_MS / 1000} s and was stopped`);
      child.kill('SIGKILL');
    }, LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      // A crash or a kill before uvu's summary counts as one failure.
      const failed = code === 0 ? total - passed : Math.max(1, total - passed);
      resolve({ engine, passed, failed });
    });
  });
}

/**
 * Processes still running that this run's tests started (our nodes, proxies and memcached
 * oracles): they inherit RUN_MARK from the test process, so servers of another run on the same
 * host (another checkout's tests, a developer's memcached) are not counted.
 */
function leftovers() {
  const found = [];
  const mark = `${RUN_MARK}=${process.pid}\0`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(mark)) continue;
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    found.push(`${pid}: ${cmd.trim()}`);
  }
  return found;
}

/** The C++ unit tests (native/dev/unit, built by `npm run build:dev`); missing counts as a failure. */
function runNativeUnit() {
  console.log('\n=== native unit tests ===');
  const program = path.join(root, 'build', 'Release', 'native_unit_tests');
  const r = spawnSync(program, [], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, LD_PRELOAD: '' } });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  const m = /native unit: (\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
  if (!m) console.error(`native unit tests did not run: ${r.error ? r.error.message : `exit ${r.status}`} (npm run build:dev builds them)`);
  const passed = m ? Number(m[1]) : 0;
  const failed = m ? Number(m[2]) + (r.status === 0 ? 0 : Number(m[2]) === 0 ? 1 : 0) : 1;
  return { engine: 'native (C++ unit)', passed, failed };
}

(async () => {
  const results = [];
  if (engines.includes('native')) results.push(runNativeUnit());
  for (const engine of engines) results.push(await runEngine(engine));
  await new Promise((r) => setTimeout(r, 500));
  const left = leftovers();
  if (left.length) console.error(`processes left running by the tests:\n  ${left.join('\n  ')}`);
  console.log('');
  for (const r of results) console.log(`engine ${r.engine}: ${r.passed} passed, ${r.failed} failed`);
  const passed = results.reduce((s, r) => s + r.passed, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0) + (left.length ? 1 : 0);
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
