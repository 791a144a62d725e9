import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { Random } from '../helpers/random';
import { Relay } from '../helpers/relay';
import { dump, replStats, startReplica, waitConverged, Testbed } from '../helpers/replicas';
import { ENGINE, freePort } from '../helpers/servers';
import { KEYS, Workload } from '../helpers/workload';

const test = suite(`replication convergence [${ENGINE}]`);
const bed = new Testbed();
test.after.each(() => bed.teardown());

/** Keys written once on each node after the load, outside the workload's keys. */
const AFTER_LOAD = ['after-load-a', 'after-load-b'];

/** Fixed seeds plus one fresh per run; REPL_SEEDS=1,2 replays. */
const SEEDS = process.env.REPL_SEEDS ? process.env.REPL_SEEDS.split(',').map(Number) : [1, 2, (Date.now() % 1e6) + 3];
const LOAD_MS = Number(process.env.REPL_LOAD_MS ?? 2500);

/**
 * Every key as the meta protocol sees it: value, flags, CAS and the stale mark (X), which
 * replication carries. Win marks (W, Z) are left out: a token handed out by a read is per node.
 * `u` keeps the dump's own reads from bumping anything.
 */
async function metaDump(port: number, keys: readonly string[]): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    const text = await c.call(`${keys.map((k) => `mg ${k} k c f v u\r\n`).join('')}mn\r\n`, 'MN\r\n', 10_000);
    return text.replace(/ [WZ](?=[ \r])/g, '');
  } finally {
    c.close();
  }
}

/**
 * Each seed runs this engine pair; one more run has 64 KB backlogs, so that reconnections are
 * full syncs in both directions merging concurrent writes; the native pass also pairs a native
 * node with a TypeScript one.
 */
const RUNS: Array<{ seed: number; peerEngine: string; args: string[] }> = SEEDS.map((seed) => ({ seed, peerEngine: ENGINE, args: [] }));
RUNS.push({ seed: SEEDS[0]! + 200, peerEngine: ENGINE, args: ['--repl-backlog', '64k'] });
if (ENGINE === 'native') RUNS.push({ seed: SEEDS[0]! + 100, peerEngine: 'ts', args: [] });

for (const { seed, peerEngine, args } of RUNS) {
  const what = `${ENGINE} + ${peerEngine}${args.length ? `, ${args.join(' ')}` : ''}`;
  test(`seed ${seed}: concurrent random writes on both nodes (${what}) with link drops converge to identical dumps (gets and mg)`, async () => {
    const rng = new Random(seed);
    const XA = await freePort();
    const a = await startReplica({ replPort: XA, args });
    const relay = bed.relay = await Relay.start(XA);
    // B reaches A only through the relay (B cannot listen on the relay's port, so it keeps dialling it).
    const b = await startReplica({ replPort: relay.port, engine: peerEngine, args });
    bed.nodes = [a, b];
    await waitConverged(a, b);
    const clients = await Promise.all([RawClient.connect(a.port), RawClient.connect(b.port)]);
    const loads = clients.map(() => new Workload(new Random(rng.int(1, 1e9))));
    const until = Date.now() + LOAD_MS;
    let nextCut = Date.now() + rng.int(100, 400);
    // The load ends inside a partition, so the last writes on each side conflict and the apply rule decides.
    let finalPartition = false;
    try {
      await Promise.all(clients.map(async (c, i) => {
        while (Date.now() < until) {
          await loads[i]!.batch(c, rng.int(1, 30));
          if (i !== 0) continue;
          if (!finalPartition && Date.now() > until - 600) {
            finalPartition = true;
            relay.partition(1000);
          } else if (!finalPartition && Date.now() > nextCut) {
            relay.partition(rng.chance(0.5) ? 0 : rng.int(50, 300));
            nextCut = Date.now() + rng.int(100, 400);
          }
        }
      }));
      // One write on each side after the load: the dumps then always hold live values (a late
      // flush_all from a slow run could leave none, and the meta check below would prove nothing).
      await Promise.all(clients.map((c, i) => c.call(`set ${AFTER_LOAD[i]} 0 0 1\r\n${i}\r\n`, 'STORED\r\n')));
      await waitConverged(a, b, 30_000);
      const DUMPED = [...KEYS, ...AFTER_LOAD];
      const [da, db] = await Promise.all([dump(a.port, DUMPED), dump(b.port, DUMPED)]);
      const [sa, sb] = await Promise.all([replStats(a.port), replStats(b.port)]);
      const summary = `seed ${seed}: ${loads[0]!.batches}+${loads[1]!.batches} batches, ${relay.cuts} cuts, ` +
        `syncs full ${sa.full_syncs_sent}/${sb.full_syncs_sent} partial ${sa.partial_syncs_sent}/${sb.partial_syncs_sent}`;
      if (da !== db) {
        const la = da.split('\r\n');
        const lb = db.split('\r\n');
        const at = la.findIndex((l, i) => l !== lb[i]);
        assert.unreachable(`${summary}: dumps differ at line ${at}: A ${JSON.stringify(la.slice(at, at + 2))} B ${JSON.stringify(lb.slice(at, at + 2))}`);
      }
      const [ma, mb] = await Promise.all([metaDump(a.port, DUMPED), metaDump(b.port, DUMPED)]);
      if (ma !== mb) {
        const la = ma.split('\r\n');
        const lb = mb.split('\r\n');
        const at = la.findIndex((l, i) => l !== lb[i]);
        assert.unreachable(`${summary}: meta dumps (mg k c f v) differ at line ${at}: A ${JSON.stringify(la.slice(at, at + 2))} B ${JSON.stringify(lb.slice(at, at + 2))}`);
      }
      assert.ok(/^VA /m.test(ma), `${summary}: the meta dump shows values`);
      assert.ok(relay.cuts > 0, summary);
      console.log(`    ${summary}, ${da.split('VALUE ').length - 1} keys identical`);
    } finally {
      for (const c of clients) c.close();
    }
  });
}

test.run();
