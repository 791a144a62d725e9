#!/usr/bin/env node
'use strict';
// Runs the C++ unit tests (when the native engine is tested), then every uvu test file once per
// engine (TEST_ENGINES=native,ts by default), then checks that no test left a server running,
// and ends with one "N passed, N failed" line.
//
// Each file runs in its own process, TEST_JOBS of them at a time (default: three per CPU),
// longest first by the durations of the previous run: most of a file's time is spent waiting on
// servers, expiry clocks and timeouts, so files overlap well even on two cores. A file whose
// source says `// test-runner: alone` asserts latency bounds and runs with nothing beside it.
// Each file is bounded by TEST_TIMEOUT_MS (default 5 min) and its output is printed whole when
// it ends, so the log reads file by file.
const { spawn, spawnSync } = require('node:child_process');
const { readdirSync, readFileSync, writeFileSync, mkdirSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const engines = (process.env.TEST_ENGINES || 'native,ts').split(',').filter(Boolean);
const LIMIT_MS = Number(process.env.TEST_TIMEOUT_MS || 5 * 60 * 1000);
const JOBS = Math.max(1, Number(process.env.TEST_JOBS || 3 * os.availableParallelism()));
const RUN_MARK = 'MCHA_TEST_RUN';
const TIMES_FILE = path.join(root, 'dist', '.test-times.json');
// Each running file gets its own block of ports for its servers (test/helpers/servers.ts
// freePort), below Linux's ephemeral range, so files running side by side never race for the
// same port and no client's outgoing connection holds a port a server is about to bind.
const PORT_FIRST = 10000;
const PORT_BLOCK = 300;
const PORT_BLOCKS = 70;

/** Every *.test.ts under test/, as its path relative to test/ without ".ts". */
function testSources(dir = path.join(root, 'test'), prefix = '') {
  const found = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) found.push(...testSources(path.join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.name.endsWith('.test.ts')) found.push(prefix + e.name.slice(0, -'.ts'.length));
  }
  return found.sort();
}

function readTimes() {
  try {
    return JSON.parse(readFileSync(TIMES_FILE, 'utf8'));
  } catch {
    return {};
  }
}

/** Runs one compiled test file (dist/test/<file>.js); resolves with its counts and output. */
function runFile(job, portBlock) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Only the compiled files of tests that exist in test/ run: tsc leaves the output of a moved
    // or deleted test in dist/.
    const child = spawn(process.execPath, [path.join(root, 'dist', 'test', `${job.file}.js`)], {
      cwd: root,
      detached: true, // its own process group, so a stopped file takes its servers with it
      env: {
        ...process.env,
        TEST_ENGINE: job.engine,
        TEST_PORT_BASE: String(PORT_FIRST + portBlock * PORT_BLOCK),
        TEST_PORT_COUNT: String(PORT_BLOCK),
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        [RUN_MARK]: String(process.pid),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      if (timedOut) out += `\n${job.file} [${job.engine}]: ran past ${LIMIT_MS / 1000} s and was stopped\n`;
      // A crash or a kill before uvu's summary counts as one failure.
      const failed = code === 0 && !timedOut ? total - passed : Math.max(1, total - passed);
      resolve({ ...job, passed, failed, ms, out });
    });
  });
}

/** Runs the jobs, at most `width` at a time; files marked alone run after, one by one. */
async function runAll(jobs, width) {
  const results = [];
  const freeBlocks = Array.from({ length: PORT_BLOCKS }, (_, i) => i);
  const report = (r) => {
    results.push(r);
    const mark = r.failed ? 'FAIL' : 'ok';
    process.stdout.write(`\n--- ${mark} ${r.file} [${r.engine}] ${(r.ms / 1000).toFixed(1)} s\n${r.out.trimEnd()}\n`);
  };
  const pool = jobs.filter((j) => !j.alone);
  const alone = jobs.filter((j) => j.alone);
  let next = 0;
  const lane = async () => {
    while (next < pool.length) {
      const job = pool[next++];
      // Blocks are reused least recently first, so a block's ports have long been closed.
      const block = freeBlocks.shift();
      report(await runFile(job, block));
      freeBlocks.push(block);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, pool.length) }, lane));
  for (const job of alone) report(await runFile(job, freeBlocks[0]));
  return results;
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
    found.push({ pid: Number(pid), cmd: cmd.trim() });
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
  const started = Date.now();
  const unit = engines.includes('native') ? [runNativeUnit()] : [];
  const times = readTimes();
  const jobs = [];
  for (const file of testSources()) {
    const alone = /^\/\/ test-runner: alone\b/m.test(readFileSync(path.join(root, 'test', `${file}.ts`), 'utf8'));
    for (const engine of engines) jobs.push({ file, engine, alone, est: times[`${engine}:${file}`] ?? Infinity });
  }
  // Unknown durations first (a new file may be long), then longest first.
  jobs.sort((a, b) => b.est - a.est);
  console.log(`\n=== ${jobs.length} test files (${engines.join(', ')}), ${JOBS} at a time ===`);
  const results = await runAll(jobs, JOBS);

  for (const r of results) times[`${r.engine}:${r.file}`] = r.ms;
  mkdirSync(path.dirname(TIMES_FILE), { recursive: true });
  writeFileSync(TIMES_FILE, JSON.stringify(times, null, 1));

  await new Promise((r) => setTimeout(r, 500));
  const left = leftovers();
  if (left.length) {
    console.error(`processes left running by the tests (now stopped):\n  ${left.map((p) => `${p.pid}: ${p.cmd}`).join('\n  ')}`);
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
  }
  console.log('');
  const failedFiles = results.filter((r) => r.failed);
  for (const r of failedFiles) console.log(`failed: ${r.file} [${r.engine}] (${r.failed})`);
  const byEngine = [...unit];
  for (const engine of engines) {
    const mine = results.filter((r) => r.engine === engine);
    byEngine.push({ engine, passed: mine.reduce((s, r) => s + r.passed, 0), failed: mine.reduce((s, r) => s + r.failed, 0) });
  }
  for (const r of byEngine) console.log(`engine ${r.engine}: ${r.passed} passed, ${r.failed} failed`);
  const passed = byEngine.reduce((s, r) => s + r.passed, 0);
  const failed = byEngine.reduce((s, r) => s + r.failed, 0) + (left.length ? 1 : 0);
  console.log(`tests: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  process.exit(failed === 0 ? 0 : 1);
})();
