import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { waitFor } from '../helpers/processes';
import { Relay } from '../helpers/relay';
import { command, kill, replStats, restart, startReplica, waitConverged, Testbed, type Replica } from '../helpers/replicas';
import { ENGINE, freePort } from '../helpers/servers';

const test = suite(`replication sync mode [${ENGINE}]`);
const bed = new Testbed();
test.after.each(() => bed.teardown());

const ROUNDS = 6;
const KEYS_PER_ROUND = 40;

/** A (sync mode) and B linked through a slow relay (20 ms each way): in async mode a reply would beat the record to B. */
async function slowSyncPair(): Promise<[Replica, Replica]> {
  const XA = await freePort();
  // -R 5: a pipeline runs in parts, the last ones here only reads, and the write replies of the
  // first parts must still wait for the peer.
  const a = await startReplica({ replPort: XA, args: ['--repl-mode', 'sync', '-R', '5'] });
  const relay = bed.relay = await Relay.start(XA, '127.0.0.1', 20);
  const b = await startReplica({ replPort: relay.port });
  bed.nodes = [a, b];
  await waitConverged(a, b);
  return [a, b];
}

test('kill -9 right after writes are acknowledged, many times: the peer always has them', async () => {
  const [a, b] = await slowSyncPair();
  let lost = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const c = await RawClient.connect(a.port);
    const keys = Array.from({ length: KEYS_PER_ROUND }, (_, i) => `r${round}:${i}`);
    const sets = keys.map((k) => `set ${k} 0 0 2\r\nok\r\n`).join('');
    const reply = await c.call(`${sets}${'verbosity 0\r\n'.repeat(12)}`, 'OK\r\n'.repeat(12), 10_000);
    assert.is(reply, `${'STORED\r\n'.repeat(KEYS_PER_ROUND)}${'OK\r\n'.repeat(12)}`);
    await kill(a);
    c.close();
    const got = await command(b.port, `get ${keys.join(' ')}\r\n`);
    lost += KEYS_PER_ROUND - (got.split('VALUE ').length - 1);
    await restart(a);
    await waitConverged(a, b, 30_000);
  }
  assert.is(lost, 0, `acknowledged writes missing on the peer: ${lost} of ${ROUNDS * KEYS_PER_ROUND}`);
});

test('writes then quit in sync mode: every reply still arrives before the connection ends', async () => {
  const [a, b] = await slowSyncPair();
  const c = await RawClient.connect(a.port);
  c.send('set q1 0 0 1\r\na\r\nset q2 0 0 1\r\nb\r\nget q1\r\nquit\r\n');
  assert.is(await c.readToClose(5000), 'STORED\r\nSTORED\r\nVALUE q1 0 1\r\na\r\nEND\r\n');
  assert.is(await command(b.port, 'get q2\r\n'), 'VALUE q2 0 1\r\nb\r\nEND\r\n');
});

test('without its peer a sync-mode node degrades to async, says so, and comes back', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X, args: ['--repl-mode', 'sync'] });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  assert.is((await replStats(a.port)).sync_degraded, '0');
  await kill(b);
  await waitFor('the degradation to show', 10_000, async () => ((await replStats(a.port)).sync_degraded === '1' ? true : undefined));
  assert.is(await command(a.port, 'set k 0 0 1\r\nv\r\n', '\r\n', 2000), 'STORED\r\n');
  assert.match(a.logs(), /sync mode degraded to async/);
  await restart(b);
  await waitConverged(a, b);
  assert.is((await replStats(a.port)).sync_degraded, '0');
  assert.is(await command(a.port, 'set k 0 0 1\r\nw\r\n', '\r\n', 2000), 'STORED\r\n');
  assert.is(await command(b.port, 'get k\r\n'), 'VALUE k 0 1\r\nw\r\nEND\r\n', 'an acknowledged write is on the peer at once');
});

test.run();
