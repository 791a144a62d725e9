import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { waitFor } from '../helpers/processes';
import { BIN, ENGINE, freePort, REPO_ROOT, SANITIZER_ENV, startNode, waitUntilServing } from '../helpers/servers';

const test = suite(`command line [${ENGINE}]`);

function run(args: string[], timeout = 10_000, env: NodeJS.ProcessEnv = SANITIZER_ENV) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('--help and serve --help describe the commands and flags', () => {
  const top = run(['--help']);
  assert.is(top.code, 0);
  assert.match(top.out, /serve/);
  const serve = run(['serve', '--help']);
  assert.is(serve.code, 0);
  for (const flag of ['-p', '-l', '-m', '-c', '-t', '-R', '-I', '-v', '-d', '-P', '-u', '-M', '-C', '-A', '-F', '-U', '-o', '--engine']) {
    assert.ok(serve.out.includes(`${flag},`) || serve.out.includes(`${flag} `), `help mentions ${flag}`);
  }
});

test('-V prints the version', () => {
  const version = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;
  assert.is(run(['-V']).out, `memcache-ha-native ${version}\n`);
  assert.is(run(['serve', '-V']).out, `memcache-ha-native ${version}\n`);
});

for (const [args, message] of [
  [['serve', '-p', 'abc'], /-p: 'abc' is not a whole number/],
  [['serve', '-p', '70000'], /-p: 70000 is out of range/],
  [['serve', '-I', '100'], /Item max size cannot be less than 1024 bytes/],
  [['serve', '-I', '2m', '-m', '2'], /Cannot set item size limit higher than 1\/2 of memory max/],
  [['serve', '-I', '2g', '-m', '8192'], /higher than a gigabyte/],
  [['serve', '-I', '1x'], /-I: '1x' is not a size/],
  [['serve', '-m', '0'], /-m: 0 is out of range/],
  [['serve', '-c', '0'], /-c: 0 is out of range/],
  [['serve', '-R', '0'], /-R: 0 is out of range/],
  [['serve', '--engine', 'fast'], /--engine: 'fast' is not one of auto, native, ts/],
  [['serve', '-Z'], /unknown option -Z/],
  [['serve', '-p'], /option -p needs a value/],
  [['serve', '-x', '127.0.0.1', '--repl-mode', 'eventual'], /--repl-mode: 'eventual' is not async or sync/],
  [['serve', '--repl-secret', 's'], /the --repl-\* options need -x <peer>/],
  [['serve', '-x', '127.0.0.1', '-X', '0'], /-X: 0 is out of range/],
  [['serve', '-x', '127.0.0.1', '--repl-backlog', '1k'], /--repl-backlog: 1k is out of range/],
  [['serve', '-x', '127.0.0.1', '--repl-secret-file', '/nonexistent/secret'], /--repl-secret-file: cannot read \/nonexistent\/secret: ENOENT/],
  [['serve', '-x', '127.0.0.1', '--repl-secret', ''], /--repl-secret: the secret is empty/],
  [['bogus'], /unknown command 'bogus'/],
  [[], /a command is needed/],
] as const) {
  test(`bad command line: ${args.join(' ') || '(nothing)'}`, () => {
    const r = run([...args]);
    assert.is(r.code, 64);
    assert.match(r.err, message);
    assert.is(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  });
}

test('--engine auto runs the native engine when the addon loads, and says so', async () => {
  const server = await startNode(['-v'], 'auto');
  try {
    const c = await RawClient.connect(server.port);
    const stats = await c.call('stats\r\n', 'END\r\n');
    c.close();
    assert.match(stats, /STAT engine native\r\n/);
    assert.match(server.proc.stdout(), /listening on 127\.0\.0\.1:\d+ engine=native pid=\d+ \(the native addon loaded\)\n/);
  } finally {
    await server.stop();
  }
});

test('--engine auto falls back to ts with one line saying why when the addon does not load', () => {
  const empty = mkdtempSync(join(tmpdir(), 'mcha-no-addon-'));
  const env = { ...process.env, MEMCACHE_HA_NATIVE_ADDON_DIR: empty };
  const r = run(['serve', '-p', '0', '--engine', 'auto'], 3000, env);
  assert.match(r.out, /listening on 127\.0\.0\.1:\d+ engine=ts pid=\d+ \(the native addon did not load\)/);
  const lines = r.err.trim().split('\n');
  assert.is(lines.length, 1, r.err);
  assert.match(lines[0]!, /warn: engine ts: the native addon did not load \(No native build was found/);
  const native = run(['serve', '-p', '0', '--engine', 'native'], 3000, env);
  assert.is(native.code, 1);
  assert.match(native.err, /--engine native: the native addon did not load: No native build was found/);
});

test('doctor says which engine runs and, when the addon does not load, why', () => {
  const ok = run(['doctor']);
  assert.is(ok.code, 0);
  assert.match(ok.out, /^memcache-ha-native \d+\.\d+\.\d+\nnode v\d+/);
  assert.match(ok.out, /native addon: loads \((prebuilt|built from source): \S+\.node\)\nengine: native\n/);
  const empty = mkdtempSync(join(tmpdir(), 'mcha-no-addon-'));
  const missing = run(['doctor'], 10_000, { ...process.env, MEMCACHE_HA_NATIVE_ADDON_DIR: empty });
  assert.is(missing.code, 0);
  assert.match(missing.out, /native addon: does not load: No native build was found/);
  assert.match(missing.out, /engine: ts /);
  assert.match(run(['doctor', '--help']).out, /^Usage: memcache-ha-native doctor\n/);
  assert.is(run(['doctor', '-x']).code, 64);
});

test("--log-file takes the log (the addon's lines too); SIGHUP reopens it after a rotation", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcha-log-'));
  const file = join(dir, 'node.log');
  const node = await startNode(['-vv', '--log-file', file]);
  // Stopped also when an assertion fails: a node left running would keep the runner alive.
  try {
    const c = await RawClient.connect(node.port);
    assert.is(await c.call('version\r\n'), `VERSION 1.6.18-mhn.${JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version}\r\n`);
    await waitFor('the command in the log', 5000, () => (/<\d+ version/.test(readFileSync(file, 'utf8')) ? true : undefined));
    renameSync(file, `${file}.1`);
    process.kill(node.proc.child.pid!, 'SIGHUP');
    await waitFor('a new log file', 5000, () => (existsSync(file) && readFileSync(file, 'utf8').includes('log file reopened (SIGHUP)') ? true : undefined));
    assert.is(await c.call('get after-rotation\r\n', 'END\r\n'), 'END\r\n');
    await waitFor('the command in the new file', 5000, () => (readFileSync(file, 'utf8').includes('get after-rotation') ? true : undefined));
    c.close();
  } finally {
    await node.stop();
  }
  assert.match(readFileSync(file, 'utf8'), /info: stopped\n$/);
  assert.match(readFileSync(`${file}.1`, 'utf8'), /info: listening on 127\.0\.0\.1:\d+/);
  assert.is(node.proc.stderr(), '', 'nothing on stderr');
});

test('a port in use is reported in one line', async () => {
  const server = await startNode();
  try {
    const r = run(['serve', '-p', String(server.port), '--engine', ENGINE]);
    assert.is(r.code, 1);
    assert.match(r.err, /failed to listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  } finally {
    await server.stop();
  }
});

test('-U and -o are accepted with a warning, and the node serves', async () => {
  const server = await startNode(['-U', '5', '-o', 'hashpower=20,modern', '-t', '8']);
  try {
    await waitFor('the warnings', 5000, () => (server.proc.stderr().includes('-o modern') ? true : undefined));
    assert.match(server.proc.stderr(), /-U 5: UDP is not served/);
    assert.match(server.proc.stderr(), /-o hashpower=20: not supported, ignored/);
    const c = await RawClient.connect(server.port);
    assert.match(await c.call('version\r\n'), /^VERSION /);
    c.close();
  } finally {
    await server.stop();
  }
});

test('-U 0 is silent and nothing is logged by default', async () => {
  const server = await startNode(['-U', '0']);
  await server.stop();
  assert.is(server.proc.stderr(), '');
});

test('-v logs events, one line each', async () => {
  const server = await startNode(['-v']);
  await server.stop();
  const lines = server.proc.stderr().trim().split('\n');
  assert.ok(lines.some((l) => /info: listening on 127\.0\.0\.1:\d+ \(engine /.test(l)), server.proc.stderr());
  assert.ok(lines.some((l) => /info: stopping \(SIGTERM\)/.test(l)));
});

test('-vv logs each command and connection; the verbosity command changes the level', async () => {
  const server = await startNode(['-vv']);
  const c = await RawClient.connect(server.port);
  await c.call('set k\x01 0 0 1\r\nx\r\n');
  await c.call('verbosity 0\r\n');
  await c.call('get after-verbosity-0\r\n', 'END\r\n');
  c.close();
  await server.stop();
  const err = server.proc.stderr();
  assert.match(err, /debug: <1 new client connection from 127\.0\.0\.1:\d+\n/);
  assert.match(err, /debug: <1 set k\\x01 0 0 1\n/);
  assert.not.match(err, /after-verbosity-0/);
});

test('SIGTERM stops the node with status 0', async () => {
  const server = await startNode();
  await server.stop('SIGTERM');
  assert.is((await server.proc.exited).code, 0);
});

test('-d daemonizes, -P writes the pid file, SIGTERM removes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcha-cli-'));
  const pidFile = join(dir, 'node.pid');
  const port = await freePort();
  const r = run(['serve', '-d', '-P', pidFile, '-p', String(port), '--engine', ENGINE]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    assert.ok(alive(pid), 'the daemon runs after its parent exited');
    await waitUntilServing(port);
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  await waitFor('the daemon to exit', 5000, () => (alive(pid) ? undefined : true));
  assert.not.ok(existsSync(pidFile), 'pid file removed on exit');
});

test('-d reports a start-up failure and exits non-zero', async () => {
  const server = await startNode();
  try {
    const r = run(['serve', '-d', '-p', String(server.port), '--engine', ENGINE]);
    assert.is(r.code, 1);
    assert.match(r.err, /EADDRINUSE/);
  } finally {
    await server.stop();
  }
});

test('-u switches user when started as root (and is ignored otherwise)', async () => {
  const server = await startNode(['-u', 'nobody']);
  try {
    const status = readFileSync(`/proc/${server.proc.child.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
    const expected = process.getuid!() === 0 ? 65534 : process.getuid!();
    assert.is(uid, expected);
    const c = await RawClient.connect(server.port);
    assert.match(await c.call('version\r\n'), /^VERSION /);
    c.close();
  } finally {
    await server.stop();
  }
});

test('-u with an unknown user fails clearly', () => {
  if (process.getuid!() !== 0) {
    assert.is(run(['serve', '-p', '0', '-u', 'no-such-user-x', '--engine', ENGINE], 3000).code, null, 'not root: -u is ignored and the node keeps running');
    return;
  }
  const pidFile = join(mkdtempSync(join(tmpdir(), 'mcha-user-')), 'node.pid');
  const r = run(['serve', '-p', '0', '-u', 'no-such-user-x', '-P', pidFile, '--engine', ENGINE]);
  assert.is(r.code, 1);
  assert.match(r.err, /can't find the user no-such-user-x to switch to/);
  assert.not.ok(existsSync(pidFile), 'checked before start-up: no pid file is left behind');
});

test.run();
