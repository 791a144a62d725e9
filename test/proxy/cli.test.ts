import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { waitFor } from '../helpers/processes';
import { backendStats, startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { BIN, ENGINE, freePort, SANITIZER_ENV, startNode, type RunningServer } from '../helpers/servers';

const test = suite(`proxy command line [${ENGINE}]`);
let node: RunningServer | null = null;
let proxy: RunningProxy | null = null;
test.after.each(async () => {
  await proxy?.stop();
  proxy = null;
  await node?.stop();
  node = null;
});

function run(args: string[], timeout = 10_000, cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout, env: SANITIZER_ENV, cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('proxy --help explains every flag with examples', () => {
  const help = run(['proxy', '--help']);
  assert.is(help.code, 0);
  for (const flag of ['-p', '-l', '-s', '-b', '-n', '-i', '-k', '-D', '-u', '-g', '-f', '-d', '-P', '-v', '-I', '--timeout', '--probe-interval', '--failure-limit', '--warmup', '--config', '--engine', '-S', '--sasl-pwdb', '-Y', '--backend-auth']) {
    assert.ok(help.out.includes(`${flag},`) || help.out.includes(`${flag} `), `help mentions ${flag}`);
  }
  assert.match(help.out, /Examples:\n {2}memcache-ha-native proxy -p 11233 -s 127\.0\.0\.1:11211 -s 127\.0\.0\.1:11222/);
  assert.match(run(['--help']).out, /proxy/);
});

for (const [args, message] of [
  [['proxy'], /no server given: use -s host:port/],
  [['proxy', '-s', 'host:abc'], /-s: 'host:abc' is not host:port\[:weight\]/],
  [['proxy', '-s', 'h:70000'], /port: 70000 is out of range/],
  [['proxy', '-s', 'h:1:0'], /weight: 0 is out of range/],
  [['proxy', '-s', 'a:1', '-s', 'a:1'], /server a:1 is given twice/],
  [['proxy', '-s', 'a:1', '--timeout', '0'], /--timeout: 0 is out of range/],
  [['proxy', '-s', 'a:1', '--bogus'], /unknown option --bogus/],
  [['proxy', '-s', 'a:1', '--engine', 'fast'], /--engine: 'fast' is not one of auto, native, ts/],
  [['proxy', '-c', '/nonexistent.yaml'], /--config \/nonexistent\.yaml: ENOENT/],
  [['proxy', '-s', 'a:1', '--sasl-pwdb', '/x'], /--sasl-pwdb needs -S/],
  [['proxy', '-s', 'a:1', '-S', '--sasl-pwdb', '/x', '-Y', '/y'], /-S and -Y cannot be used together/],
  [['proxy', '-s', 'a:1', '--backend-auth', '/nonexistent'], /--backend-auth: cannot read \/nonexistent: ENOENT/],
] as const) {
  test(`proxy ${args.slice(1).join(' ')} is refused with status 64`, () => {
    const r = run([...args]);
    assert.is(r.code, 64, r.err);
    assert.match(r.err, message);
  });
}

test('a YAML configuration file sets servers, groups and timeouts; flags override it', async () => {
  node = await startNode();
  const dir = mkdtempSync(join(tmpdir(), 'proxy-conf-'));
  const file = join(dir, 'proxy.yaml');
  const spare = await freePort();
  writeFileSync(file, [`servers:`, `  - 127.0.0.1:${node.port},127.0.0.1:${spare}`, `timeout_ms: 300`, `port: 1`, ``].join('\n'));
  proxy = await startProxy(['-c', file]);
  assert.is.not(proxy.port, 1, '-p 0 on the command line overrides the file\'s port');
  assert.is(await command(proxy.port, 'set k 0 0 1\r\nx\r\nget k\r\n'), 'STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n');
  const stats = await backendStats(proxy.port);
  assert.is(stats.get('backend:0:shard'), '0');
  assert.is(stats.get('backend:1:shard'), '0', 'the two servers of the group form one shard');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'servers: [a:1]\nspeed: 3\n');
  assert.match(run(['proxy', '-c', bad]).err, /speed: unknown setting/);
});

test('-f listens on a unix socket; -d detaches, writes the pid file and logs to --log-file, re-reads a relative -c on SIGHUP; SIGTERM removes both', async () => {
  node = await startNode();
  const dir = mkdtempSync(join(tmpdir(), 'proxy-d-'));
  const sock = join(dir, 'proxy.sock');
  const pidFile = join(dir, 'proxy.pid');
  const log = join(dir, 'proxy.log');
  writeFileSync(join(dir, 'proxy.yaml'), `servers: [127.0.0.1:${node.port}]\n`);
  const r = run(['proxy', '-d', '-v', '--log-file', log, '-f', sock, '-P', pidFile, '--engine', ENGINE, '-c', 'proxy.yaml'], 10_000, dir);
  assert.is(r.code, 0, r.err);
  // The socket is served by the engine's data path: C++ with the native engine.
  assert.match(r.out, new RegExp(`proxy listening on unix:\\S+ engine=${ENGINE} `));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    const c = await RawClient.connect(0, sock);
    assert.is(await c.call('set u 0 0 1\r\ny\r\nget u\r\n', 'END\r\n'), 'STORED\r\nVALUE u 0 1\r\ny\r\nEND\r\n');
    // A request of another kind moves the connection to the TypeScript path, on a unix socket too.
    assert.match(await c.call('stats\r\nget u\r\n', 'END\r\nVALUE u 0 1\r\ny\r\nEND\r\n'), /^STAT pid \d+\r\n[\s\S]*END\r\nVALUE u 0 1\r\ny\r\nEND\r\n$/);
    c.close();
    // The daemon stays in the directory it was started from: the relative -c is found again.
    writeFileSync(join(dir, 'proxy.yaml'), `servers: [127.0.0.1:${node.port}]\ntimeout_ms: 700\n`);
    process.kill(pid, 'SIGHUP');
    await waitFor('the reload', 5000, () => (/configuration generation 2 loaded \(SIGHUP\)/.test(readFileSync(log, 'utf8')) ? true : undefined));
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  await waitFor('the daemon to exit and clean up', 5000, () => (!existsSync(pidFile) && !existsSync(sock) ? true : undefined));
  const logged = readFileSync(log, 'utf8');
  assert.match(logged, /info: proxy listening on unix:/);
  assert.match(logged, /info: stopping \(SIGTERM\)/);
});

test('the start-up line names the data path; a server name that does not resolve takes no requests, and the others serve its keys, on either path', async () => {
  node = await startNode();
  proxy = await startProxy(['-s', `127.0.0.1:${node.port}`]);
  const want = ENGINE === 'native' ? /engine=native pid=\d+ \(1 servers; asked for with --engine native\)/ : /engine=ts pid=/;
  assert.match(proxy.proc.stdout(), want);
  await proxy.stop();
  proxy = await startProxy(['-s', 'no-such-host.invalid:11211', '-s', `127.0.0.1:${node.port}`]);
  if (ENGINE === 'native') {
    assert.match(proxy.proc.stdout(), /engine=native pid=\d+ \(2 servers; asked for with --engine native\)/);
    assert.match(proxy.proc.stderr(), /warn: proxy: server no-such-host\.invalid:11211 does not resolve \([A-Z_]+\): it takes no requests until it does/);
  }
  // Keys whose server cannot be reached go to the other one (ejection), on either path.
  assert.is(await command(proxy.port, 'set r 0 0 1\r\nx\r\nget r\r\n', 'END\r\n', 5000), 'STORED\r\nVALUE r 0 1\r\nx\r\nEND\r\n');
});

test.run();
