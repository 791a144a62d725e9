import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { waitFor } from '../helpers/processes';
import { command, replStats, startReplica, waitConverged, Testbed } from '../helpers/replicas';
import { BIN, ENGINE, freePort, SANITIZER_ENV } from '../helpers/servers';

const test = suite(`replication authentication [${ENGINE}]`);
const bed = new Testbed();
test.after.each(() => bed.teardown());

test('a peer with a different secret is refused, on both sides, with clear log lines', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X, args: ['--repl-secret', 'right horse battery'] });
  const b = await startReplica({ replPort: X, args: ['--repl-secret', 'wrong'] });
  bed.nodes = [a, b];
  // Each side checks the other's proof: both log the failure (or the other's refusal, whichever comes first).
  const refusal = /failed authentication \(a different or missing --repl-secret\); refused|refused this node: authentication failed/;
  await waitFor('the refusal to be logged', 10_000, () => (refusal.test(b.logs()) && refusal.test(a.logs()) ? true : undefined));
  await command(a.port, 'set k 0 0 1\r\nv\r\n', '\r\n');
  await new Promise((r) => setTimeout(r, 300));
  assert.is(await command(b.port, 'get k\r\n'), 'END\r\n', 'nothing crosses an unauthenticated link');
  assert.is.not((await replStats(a.port)).state, 'in_sync');
});

test('a node without a secret cannot join one that has a secret', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X, args: ['--repl-secret', 's3cret'] });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  await waitFor('the refusal to be logged', 10_000, () => (/authentication failed|failed authentication/.test(b.logs()) ? true : undefined));
  assert.is.not((await replStats(b.port)).state, 'in_sync');
});

test('the same secret from a file and from the environment links the pair', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcha-secret-'));
  const file = join(dir, 'secret');
  writeFileSync(file, 'shared-secret\n', { mode: 0o600 });
  const X = await freePort();
  const a = await startReplica({ replPort: X, args: ['--repl-secret-file', file] });
  const b = await startReplica({ replPort: X, env: { MEMCACHE_HA_REPL_SECRET: 'shared-secret' } });
  bed.nodes = [a, b];
  await command(a.port, 'set k 0 0 1\r\nv\r\n', '\r\n');
  await waitConverged(a, b);
  assert.is(await command(b.port, 'get k\r\n'), 'VALUE k 0 1\r\nv\r\nEND\r\n');
});

test('garbage and oversized frames on the replication port are dropped; the pair still links', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  bed.nodes = [a];
  for (const junk of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1]), Buffer.alloc(70_000, 0x41)]) {
    const c = await RawClient.connect(X);
    c.send(junk);
    await c.readToClose(5000);
  }
  assert.match(a.logs(), /bad data from .*frame of \d+ bytes \(limit 65536\)/);
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  await command(a.port, 'set k 0 0 1\r\nv\r\n', '\r\n');
  await waitConverged(a, b);
  assert.is(await command(b.port, 'get k\r\n'), 'VALUE k 0 1\r\nv\r\nEND\r\n');
});

test('a replication port on a non-loopback address without a secret refuses to start, saying why', () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--engine', ENGINE, '-x', '10.0.0.2', '--repl-listen', '0.0.0.0', '-p', '0'], {
    encoding: 'utf8', timeout: 10_000, env: SANITIZER_ENV,
  });
  assert.is(r.status, 64);
  assert.match(r.stderr, /replication port bound to 0\.0\.0\.0, which is not a loopback address: give a shared secret/);
  const l = spawnSync(process.execPath, [BIN, 'serve', '--engine', ENGINE, '-x', '10.0.0.2', '-l', '0.0.0.0', '-p', '0'], {
    encoding: 'utf8', timeout: 10_000, env: SANITIZER_ENV,
  });
  assert.is(l.status, 64, '-X follows -l unless --repl-listen says otherwise');
});

test.run();
