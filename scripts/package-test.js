#!/usr/bin/env node
'use strict';
// The package as users get it (run by .ci/run after the tests): packs the tarball, installs it
// into an empty directory with the compilers hidden from PATH, and checks that `serve` runs on
// the native engine from the prebuilt binary; then the same with the prebuilt binary removed:
// the install must still succeed, say why in one line, and `serve` run on the TypeScript engine.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mhn-package-'));

function step(text) {
  console.log(`--- ${text}`);
}

function fail(text) {
  console.error(`package test FAILED: ${text}`);
  process.exit(1);
}

/** A PATH holding node and a shell: no compiler, no make, no Python (node-gyp's toolchain). */
function toolchainFreePath() {
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  const which = (cmd) => execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  for (const cmd of ['node', 'sh']) fs.symlinkSync(which(cmd), path.join(bin, cmd));
  for (const cmd of ['cc', 'gcc', 'g++', 'c++', 'make', 'clang', 'python3']) {
    if (fs.existsSync(path.join(bin, cmd))) fail(`${cmd} is on the test PATH`);
  }
  return bin;
}

function npm(args, cwd, env) {
  const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return execFileSync(process.execPath, [npmCli, ...args], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ask(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d;
      if (got.endsWith('END\r\n')) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(text)}; got ${JSON.stringify(got)}`)), 5000).unref();
  });
}

/** Runs `npx memcache-ha-native serve -p 0` where the package is installed; returns its line and `stats`. */
async function serve(dir, env) {
  const npx = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npx-cli.js');
  const child = spawn(process.execPath, [npx, '--no-install', 'memcache-ha-native', 'serve', '-p', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  try {
    const deadline = Date.now() + 20_000;
    let m;
    while (!(m = /listening on 127\.0\.0\.1:(\d+)/.exec(out))) {
      if (Date.now() > deadline || child.exitCode !== null) fail(`serve did not start: ${out}${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const stats = await ask(Number(m[1]), 'stats\r\n');
    return { line: out.trim().split('\n')[0], err: err.trim(), stats };
  } finally {
    process.kill(-child.pid, 'SIGTERM');
  }
}

function doctor(dir, env) {
  const npx = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npx-cli.js');
  return execFileSync(process.execPath, [npx, '--no-install', 'memcache-ha-native', 'doctor'], { cwd: dir, env, encoding: 'utf8' });
}

async function installAndRun(name, tarball, env) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "user-app", "version": "1.0.0", "private": true }\n');
  const output = npm(['install', '--no-audit', '--no-fund', '--foreground-scripts', tarball], dir, env);
  const said = output.split('\n').filter((l) => l.startsWith('memcache-ha-native:'));
  console.log(`npm install: exit 0; the package said: ${said.length ? said.join(' | ') : '(nothing)'}`);
  const run = await serve(dir, env);
  console.log(`serve: ${run.line}`);
  if (run.err) console.log(`serve stderr: ${run.err}`);
  const engine = /STAT engine (\w+)/.exec(run.stats)?.[1];
  console.log(`stats: STAT engine ${engine}`);
  const doc = doctor(dir, env);
  console.log(doc.trim().split('\n').map((l) => `doctor: ${l}`).join('\n'));
  return { said, engine, line: run.line, doctor: doc };
}

(async () => {
  step('npm pack (prepack builds the prebuilt binary with prebuildify --napi --strip)');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))[0];
  const tarball = path.join(work, packed.filename);
  console.log(`${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files`);
  for (const f of packed.files) console.log(`  ${String(f.size).padStart(8)}  ${f.path}`);
  const prebuilt = packed.files.filter((f) => f.path.startsWith('prebuilds/') && f.path.endsWith('.node'));
  if (prebuilt.length === 0) fail('the tarball holds no prebuilt binary');

  const env = { ...process.env, PATH: toolchainFreePath(), npm_config_update_notifier: 'false' };
  step('install with the prebuilt binary, no compiler on PATH');
  const native = await installAndRun('with-prebuilt', tarball, env);
  if (native.engine !== 'native') fail(`expected the native engine, got ${native.engine}`);
  if (!/prebuilt/.test(native.doctor)) fail('doctor does not say the binary is prebuilt');

  step('install without the prebuilt binary, no compiler on PATH');
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  execFileSync('tar', ['xzf', tarball, '-C', unpacked]);
  fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  const bare = path.join(work, 'without-prebuilt.tgz');
  execFileSync('tar', ['czf', bare, '-C', unpacked, 'package']);
  const fallback = await installAndRun('without-prebuilt', bare, env);
  if (fallback.said.length !== 1 || !/building from source failed .*TypeScript engine/.test(fallback.said[0])) fail('the install did not say in one line why the TypeScript engine runs');
  if (fallback.engine !== 'ts') fail(`expected the TypeScript engine, got ${fallback.engine}`);
  if (!/engine=ts/.test(fallback.line)) fail(`the start-up line does not name the engine: ${fallback.line}`);
  if (!/does not load/.test(fallback.doctor)) fail('doctor does not say why the addon does not load');
  console.log('package test passed');
})().catch((err) => fail(err.stack));
