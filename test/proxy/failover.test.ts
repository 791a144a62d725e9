// test-runner: alone (asserts how fast failover answers, and the CPU an idle proxy uses)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { cpuSeconds } from '../helpers/proc-stats';
import { waitFor } from '../helpers/processes';
import { backendStats, startProxy, type RunningProxy } from '../helpers/proxies';
import { command, kill, restart, startReplica, Testbed } from '../helpers/replicas';
import { Relay } from '../helpers/relay';
import { ENGINE, freePort, startNode, type RunningServer } from '../helpers/servers';
import { Ketama } from '../../src/proxy/ketama';

const test = suite(`proxy failover [${ENGINE}]`);
const bed = new Testbed();
let proxy: RunningProxy | null = null;
let plain: RunningServer[] = [];
test.after.each(async () => {
  await proxy?.stop();
  proxy = null;
  await Promise.all(plain.map((n) => n.stop('SIGKILL')));
  plain = [];
  await bed.teardown();
});

const FAST = ['--timeout', '500', '--probe-interval', '100'];

/**
 * Writers through the proxy: each connection sets fresh keys one after another and remembers
 * which were acknowledged (and when); it also reads back acknowledged keys, counting misses.
 */
class Load {
  readonly acked = new Map<string, number>();
  errors = 0;
  misses = 0;
  reads = 0;
  private running = true;
  private readonly done: Promise<void>[];

  constructor(port: number, connections: number) {
    this.done = Array.from({ length: connections }, (_, c) => this.writer(port, c));
  }

  private async writer(port: number, c: number): Promise<void> {
    const client = await RawClient.connect(port);
    try {
      for (let seq = 0; this.running; seq++) {
        const key = `w:${c}:${seq}`;
        const reply = await client.call(`set ${key} 0 0 ${key.length}\r\n${key}\r\n`, '\r\n', 5000);
        if (reply === 'STORED\r\n') this.acked.set(key, Date.now());
        else this.errors++;
        if (seq % 5 === 4) {
          const old = `w:${c}:${seq - 3}`;
          if (!this.acked.has(old)) continue;
          this.reads++;
          const got = await client.call(`get ${old}\r\n`, 'END\r\n', 5000);
          if (got === 'END\r\n') this.misses++;
          else if (!got.startsWith('VALUE')) this.errors++;
        }
      }
    } finally {
      client.close();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.done);
  }
}

/** Acknowledged keys the proxy cannot return now. */
async function missing(port: number, keys: string[]): Promise<string[]> {
  const lost: string[] = [];
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200);
    const reply = await command(port, `get ${batch.join(' ')}\r\n`, 'END\r\n', 10_000);
    for (const k of batch) if (!reply.includes(`VALUE ${k} `)) lost.push(k);
  }
  return lost;
}

async function waitBackend(port: number, i: number, state: 'up' | 'out'): Promise<void> {
  await waitFor(`backend ${i} to be ${state}`, 15_000, async () => ((await backendStats(port)).get(`backend:${i}:state`) === state ? true : undefined));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scenario(mode: 'sync' | 'async'): Promise<{ load: Load; lost: string[]; kills: number[] }> {
  const X = await freePort();
  const a = await startReplica({ replPort: X, args: ['--repl-mode', mode] });
  const b = await startReplica({ replPort: X, args: ['--repl-mode', mode] });
  bed.nodes = [a, b];
  proxy = await startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`, ...FAST]);
  const port = proxy.port;
  await waitFor('the proxy to see that the nodes replicate each other', 10_000, async () =>
    (await backendStats(port)).get('backend:0:peer') === `127.0.0.1:${b.port}` ? true : undefined);
  const load = new Load(port, 4);
  const kills: number[] = [];
  await sleep(700);
  kills.push(Date.now());
  await kill(a);
  await sleep(700);
  await restart(a);
  // Not a read goes to A before the proxy's probe has found it in sync.
  await waitBackend(port, 0, 'up');
  await sleep(700);
  kills.push(Date.now());
  await kill(b);
  await sleep(700);
  await load.stop();
  const lost = await missing(port, [...load.acked.keys()]);
  const stats = await backendStats(port);
  console.log(`  ${mode}: ${load.acked.size} writes acknowledged, ${lost.length} missing, ${load.errors} client errors, ` +
    `${load.misses}/${load.reads} read misses; failovers A ${stats.get('backend:0:failovers')} B ${stats.get('backend:1:failovers')}`);
  return { load, lost, kills };
}

test('sync mode: kill -9 A, restart it, kill -9 B, under load: every acknowledged write is still readable', async () => {
  const { load, lost } = await scenario('sync');
  assert.ok(load.acked.size > 100, `only ${load.acked.size} writes went through`);
  assert.equal(lost, [], 'acknowledged writes missing');
  assert.is(load.misses, 0, 'reads of acknowledged keys that missed');
  assert.ok(load.errors <= 8, `${load.errors} client-visible errors`);
});

test('async mode: only writes acknowledged just before a kill may be missing', async () => {
  const { load, lost, kills } = await scenario('async');
  assert.ok(load.acked.size > 100, `only ${load.acked.size} writes went through`);
  // A write is at risk only while it is not yet on the peer: the last few milliseconds before a kill.
  for (const k of lost) {
    const at = load.acked.get(k)!;
    assert.ok(kills.some((t) => at <= t + 50 && at >= t - 200), `${k}, acknowledged ${at}, was not in flight at a kill (${kills})`);
  }
  assert.ok(load.errors <= 8, `${load.errors} client-visible errors`);
});

test('a node that serves while it resyncs (--serve-stale) gets no request until it reports itself in sync', async () => {
  const XA = await freePort();
  const a = await startReplica({ replPort: XA });
  // B reaches A through a slow link (200 ms each way): its resync takes seconds, with its client port open.
  const relay = (bed.relay = await Relay.start(XA, '127.0.0.1', 200));
  const b = await startReplica({ replPort: relay.port, args: ['--serve-stale'] });
  bed.nodes = [a, b];
  proxy = await startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`, ...FAST]);
  const port = proxy.port;
  await waitFor('B in sync', 15_000, async () => ((await backendStats(port)).get('backend:1:replication') === 'in_sync' ? true : undefined));
  await kill(b);
  await waitBackend(port, 1, 'out');
  const keys = Array.from({ length: 500 }, (_, i) => `rs:${i}`);
  await command(port, keys.map((k) => `set ${k} 0 0 ${k.length}\r\n${k}\r\n`).join(''), 'STORED\r\n'.repeat(keys.length));
  await restart(b);
  const seen: string[] = [];
  await waitFor('B to be taken back', 20_000, async () => {
    const s = await backendStats(port);
    const state = s.get('backend:1:state')!;
    const repl = s.get('backend:1:replication')!;
    seen.push(`${state}/${repl}`);
    return state === 'up' ? true : undefined;
  });
  assert.ok(seen.every((o) => !o.startsWith('up/') || o === 'up/in_sync'), `taken back before it was in sync: ${seen.join(' ')}`);
  assert.ok(seen.some((o) => /^out\/(handshake|full_sync|partial_sync)$/.test(o)), `never probed while resyncing: ${seen.join(' ')}`);
  // Taken back, it holds everything written while it was away.
  const direct = await command(b.port, `get ${keys.join(' ')}\r\n`, 'END\r\n', 10_000);
  assert.is(direct.split('VALUE ').length - 1, keys.length);
});

test('every node of a shard down: SERVER_ERROR within the timeout, and the proxy idles', async () => {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes = [a, b];
  proxy = await startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`, ...FAST]);
  assert.is(await command(proxy.port, 'set k 0 0 1\r\nx\r\n', '\r\n'), 'STORED\r\n');
  await kill(a);
  await kill(b);
  const c = await RawClient.connect(proxy.port);
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const reply = await c.call('get k\r\n', '\r\n', 3000);
    assert.match(reply, /^SERVER_ERROR /);
    assert.ok(Date.now() - started < 1500, `answered after ${Date.now() - started} ms`);
  }
  c.close();
  await waitBackend(proxy.port, 0, 'out');
  await waitBackend(proxy.port, 1, 'out');
  const pid = proxy.proc.child.pid!;
  const before = cpuSeconds(pid);
  await sleep(1000);
  const used = cpuSeconds(pid) - before;
  assert.ok(used < 0.2, `the proxy used ${used.toFixed(3)} s of CPU in 1 s with every node down`);
  assert.is(await command(proxy.port, 'get k\r\n', '\r\n'), 'SERVER_ERROR backend unavailable\r\n');
});

test('plain nodes without replication: a dead node is ejected and its keys go to the next one on the ring', async () => {
  plain = await Promise.all([startNode(), startNode(), startNode()]);
  proxy = await startProxy([...plain.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), ...FAST]);
  const keys = Array.from({ length: 60 }, (_, i) => `e:${i}`);
  const setAll = () => command(proxy!.port, keys.map((k) => `set ${k} 0 0 1\r\nx\r\n`).join(''), 'STORED\r\n'.repeat(keys.length));
  await setAll();
  await plain[1]!.stop('SIGKILL');
  // The first requests after the kill may fail (in flight, or on a broken connection); then none.
  await waitBackend(proxy.port, 1, 'out');
  assert.is(await setAll(), 'STORED\r\n'.repeat(keys.length));
  const reply = await command(proxy.port, `get ${keys.join(' ')}\r\n`);
  assert.is(reply.split('VALUE ').length - 1, keys.length);
});

test('a node that stops answering (SIGSTOP): a read is retried on the next one, a write that may have applied gets SERVER_ERROR, both within the timeout; it is out, and back once it answers', async () => {
  plain = await Promise.all([startNode(), startNode()]);
  proxy = await startProxy([...plain.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), ...FAST, '--failure-limit', '2']);
  const ring = new Ketama(plain.map((n) => ({ host: '127.0.0.1', port: n.port, weight: 1 })));
  const key = Array.from({ length: 100 }, (_, i) => `hang:${i}`).find((k) => ring.memberOf(k) === 0)!;
  assert.is(await command(proxy.port, `set ${key} 0 0 1\r\n5\r\n`, '\r\n'), 'STORED\r\n');
  const stopped = plain[0]!.proc.child;
  stopped.kill('SIGSTOP');
  try {
    const c = await RawClient.connect(proxy.port);
    let started = Date.now();
    // incr may have been applied by the silent node: not retried.
    assert.is(await c.call(`incr ${key} 1\r\n`, '\r\n', 3000), 'SERVER_ERROR backend timeout\r\n');
    assert.ok(Date.now() - started < 1500, `incr answered after ${Date.now() - started} ms`);
    started = Date.now();
    // A get is: the other node answers (it does not hold the key).
    assert.is(await c.call(`get ${key}\r\n`, 'END\r\n', 3000), 'END\r\n');
    assert.ok(Date.now() - started < 1500, `get answered after ${Date.now() - started} ms`);
    await waitBackend(proxy.port, 0, 'out');
    started = Date.now();
    assert.is(await c.call(`set ${key} 0 0 1\r\n7\r\n`, '\r\n', 3000), 'STORED\r\n');
    assert.ok(Date.now() - started < 200, 'with the node out, no wait');
    const stats = await backendStats(proxy.port);
    assert.ok(Number(stats.get('backend:0:timeouts')) >= 2, `timeouts ${stats.get('backend:0:timeouts')}`);
    c.close();
  } finally {
    stopped.kill('SIGCONT');
  }
  await waitBackend(proxy.port, 0, 'up');
  // Back, it serves its keys again: the incr it had been sent may have been applied after all.
  assert.match(await command(proxy.port, `get ${key}\r\n`), new RegExp(`^VALUE ${key} 0 1\r\n[56]\r\nEND\r\n$`));
});

test.run();
