import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { Random } from '../helpers/random';
import { dump, kill, replStats, restart, startReplica, waitConverged, Testbed } from '../helpers/replicas';
import { ENGINE, freePort } from '../helpers/servers';
import { KEYS, Workload } from '../helpers/workload';

const test = suite(`replication under worker threads [${ENGINE}]`);
const bed = new Testbed();
test.after.each(() => bed.teardown());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SEED = Number(process.env.THREAD_SEED ?? (Date.now() % 1e6) + 1);
const CONNECTIONS = 16;

/** Writes that expire within the test (set and touch with a 1-second exptime), beside the workload's. */
function expiring(rng: Random): string {
  const k = rng.pick(KEYS);
  return rng.chance(0.5) ? `set ${k} 3 1 2\r\nex\r\n` : `touch ${k} 1\r\n`;
}

/** Each of `clients` runs random batches on the same keys until `until`. */
async function load(clients: RawClient[], rng: Random, until: number): Promise<number> {
  let batches = 0;
  await Promise.all(clients.map(async (c) => {
    const w = new Workload(new Random(rng.int(1, 1e9)));
    const r = new Random(rng.int(1, 1e9));
    while (Date.now() < until) {
      await w.batch(c, r.int(1, 8));
      if (r.chance(0.2)) await c.call(`${expiring(r)}mn\r\n`, 'MN\r\n', 10_000);
      batches++;
    }
  }));
  return batches;
}

test(`seed ${SEED}: ${CONNECTIONS} connections per node on 4 worker threads writing, reading, deleting and expiring the same keys, through a full sync, end with identical dumps`, async () => {
  const rng = new Random(SEED);
  // Both on one replication port: the first listens on it, the second dials it.
  const X = await freePort();
  const args = ['-t', '4'];
  const a = await startReplica({ replPort: X, args });
  const b = await startReplica({ replPort: X, args });
  bed.nodes = [a, b];
  await waitConverged(a, b);
  const connect = (port: number): Promise<RawClient[]> => Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(port)));
  const onA = await connect(a.port);
  let onB = await connect(b.port);
  let batches = 0;
  try {
    // Both nodes take writes from every thread.
    batches += await load([...onA, ...onB], rng, Date.now() + 1500);
    // B loses everything and comes back: a full sync from A while A's clients keep writing.
    for (const c of onB) c.close();
    await kill(b);
    const during = load(onA, rng, Date.now() + 2000);
    await restart(b);
    batches += await during;
    onB = await connect(b.port);
    batches += await load([...onA, ...onB], rng, Date.now() + 1000);
    await waitConverged(a, b, 30_000);
    // Every 1-second item has expired on both clocks before the dumps are read.
    await sleep(2100);
    const [da, db] = await Promise.all([dump(a.port, KEYS), dump(b.port, KEYS)]);
    const sa = await replStats(a.port);
    const summary = `seed ${SEED}: ${batches} batches, full syncs sent by A ${sa.full_syncs_sent}`;
    if (da !== db) {
      const la = da.split('\r\n');
      const lb = db.split('\r\n');
      const at = la.findIndex((l, i) => l !== lb[i]);
      assert.unreachable(`${summary}: dumps differ at line ${at}: A ${JSON.stringify(la.slice(at, at + 2))} B ${JSON.stringify(lb.slice(at, at + 2))}`);
    }
    assert.ok(Number(sa.full_syncs_sent) >= 1, `${summary}: B's restart was a full sync`);
    assert.ok(/^VALUE /m.test(da), `${summary}: the dump holds values`);
    console.log(`    ${summary}, ${da.split('VALUE ').length - 1} keys identical`);
  } finally {
    for (const c of [...onA, ...onB]) c.close();
  }
});

test.run();
