import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../helpers/processes';
import { command, dump, kill, replStats, restart, startReplica, waitConverged, Testbed } from '../helpers/replicas';
import { ENGINE, freePort } from '../helpers/servers';

const test = suite(`replication scenario [${ENGINE}]`);
const bed = new Testbed();
test.after.each(() => bed.teardown());

const KEYS = Array.from({ length: 40 }, (_, i) => `key:${i}`);

async function setMany(port: number, keys: readonly string[], tag: string): Promise<void> {
  const body = keys.map((k) => `set ${k} 7 0 ${tag.length + k.length}\r\n${tag}${k}\r\n`).join('');
  const reply = await command(port, body, 'STORED\r\n'.repeat(keys.length));
  assert.is(reply, 'STORED\r\n'.repeat(keys.length));
}

test('two nodes on one host share -X; writes to either appear on both; a killed node resyncs before serving', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  assert.is((await replStats(a.port)).role, 'listener');
  assert.is((await replStats(b.port)).role, 'connector');

  await setMany(a.port, KEYS.slice(0, 20), 'from-a:');
  await setMany(b.port, KEYS.slice(20), 'from-b:');
  await waitConverged(a, b);
  const both = await dump(a.port, KEYS);
  assert.is(await dump(b.port, KEYS), both);
  assert.is(both.split('VALUE ').length - 1, 40);

  // kill -9 the connector, keep writing to the survivor, restart with the same command.
  await kill(b);
  await setMany(a.port, KEYS.slice(0, 10), 'while-b-was-down:');
  assert.is(await command(a.port, `delete ${KEYS[30]}\r\n`, '\r\n'), 'DELETED\r\n');
  await restart(b);
  // No waiting: the listening line comes only once the sync is complete.
  assert.is(await dump(b.port, KEYS), await dump(a.port, KEYS));
  assert.match(await dump(b.port, [KEYS[0]!]), 'while-b-was-down:');

  // kill -9 the listener: the survivor takes the replication port over; the restarted node connects to it.
  await kill(a);
  await waitFor('the survivor to take -X over', 10_000, async () => ((await replStats(b.port)).role === 'listener' ? true : undefined));
  await setMany(b.port, KEYS.slice(10, 15), 'while-a-was-down:');
  await restart(a);
  assert.is(await dump(a.port, KEYS), await dump(b.port, KEYS));
  assert.is((await replStats(a.port)).role, 'connector');
  await waitConverged(a, b);
});

test('same CAS on both nodes: gets on one, cas on the other', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  await command(a.port, 'set c 0 0 1\r\nx\r\n', '\r\n');
  await waitConverged(a, b);
  const ga = await command(a.port, 'gets c\r\n');
  const gb = await command(b.port, 'gets c\r\n');
  assert.is(gb, ga);
  const cas = /VALUE c 0 1 (\d+)/.exec(gb)![1];
  assert.is(await command(b.port, 'touch c 1000\r\n', '\r\n'), 'TOUCHED\r\n', 'touch keeps the CAS');
  assert.is(await command(a.port, `cas c 0 0 1 ${cas}\r\ny\r\n`, '\r\n'), 'STORED\r\n');
  await waitConverged(a, b);
  assert.is(await command(b.port, 'get c\r\n'), 'VALUE c 0 1\r\ny\r\nEND\r\n');
  assert.is(await command(b.port, `cas c 0 0 1 ${cas}\r\nz\r\n`, '\r\n'), 'EXISTS\r\n');
});

test('a third node is refused with a clear log line, and the pair keeps replicating', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  const c = await startReplica({ replPort: X });
  bed.nodes = [a, b, c];
  await waitFor('the third node to log its refusal', 10_000, () => (/refused this node: .*third node is refused/.test(c.logs()) ? true : undefined));
  assert.match(a.logs(), /refused node \d+ .*already replicates with/);
  assert.ok(Number((await replStats(a.port)).refused_links) >= 1);
  await command(a.port, 'set k 0 0 1\r\nv\r\n', '\r\n');
  await waitConverged(a, b);
  assert.is(await command(b.port, 'get k\r\n'), 'VALUE k 0 1\r\nv\r\nEND\r\n');
  assert.is(await command(c.port, 'get k\r\n'), 'END\r\n');
});

test('a peer that accepts but never answers: the node serves after the handshake times out, at once with --serve-stale', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const X = (silent.address() as net.AddressInfo).port;
  try {
    const stale = await startReplica({ replPort: X, args: ['--serve-stale'] });
    bed.nodes = [stale];
    // It served before its handshake gave up (5 s after its link started), not after: a check
    // on what it logged, not on the wall clock, which a sanitizer build's start-up stretches.
    assert.not.match(stale.logs(), /did not complete the handshake/, '--serve-stale does not wait for the peer');
    assert.is((await replStats(stale.port)).serving, 'yes');
    const waiting = await startReplica({ replPort: X, wait: false });
    bed.nodes = [stale, waiting];
    await new Promise((r) => setTimeout(r, 2000));
    assert.not.match(waiting.proc.stdout(), /listening on/, 'no clients while the handshake is pending');
    await waitFor('the node to serve after the handshake timeout', 15_000, () => (/listening on/.test(waiting.proc.stdout()) ? true : undefined));
    assert.match(waiting.logs(), /did not complete the handshake \(handshake timed out\)/);
  } finally {
    silent.close();
  }
});

test.run();
