import { spawn, spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { waitFor } from '../helpers/processes';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { startReplica, Testbed, waitConverged } from '../helpers/replicas';
import { BIN, ENGINE, freePort, startMemcached, type RunningServer } from '../helpers/servers';

const test = suite(`top [${ENGINE}]`);
const bed = new Testbed();
let memcached: RunningServer | null = null;
let proxy: RunningProxy | null = null;
let traffic: Traffic | null = null;
test.after.each(async () => {
  await traffic?.stop();
  traffic = null;
  await proxy?.stop();
  proxy = null;
  await memcached?.stop();
  memcached = null;
  await bed.teardown();
});

/** Sets and gets (half of them misses) on one connection, until stopped: something for top to count. */
class Traffic {
  private running = true;
  private readonly done: Promise<void>;

  private constructor(private readonly c: RawClient) {
    this.done = this.loop();
  }

  static async start(port: number): Promise<Traffic> {
    return new Traffic(await RawClient.connect(port));
  }

  private async loop(): Promise<void> {
    for (let n = 0; this.running; n++) {
      await this.c.call(`set t${n % 100} 0 0 1\r\nx\r\nget t${n % 100}\r\nget none${n}\r\n`, 'END\r\nEND\r\n');
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.c.close();
  }
}

/** A replicating pair, a memcached, a proxy over the node and the memcached, and a port nothing listens on. */
async function cluster(): Promise<{ node: number; peer: number; memcached: number; proxy: number; nowhere: number }> {
  const X = await freePort();
  const a = await startReplica({ replPort: X });
  const b = await startReplica({ replPort: X });
  bed.nodes.push(a, b);
  await waitConverged(a, b);
  memcached = await startMemcached();
  proxy = await startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${memcached.port}`, '--probe-interval', '100']);
  return { node: a.port, peer: b.port, memcached: memcached.port, proxy: proxy.port, nowhere: await freePort() };
}

test('piped, top prints one line per target per refresh: rates, hit ratio, memory, replication, the proxy\'s backends', async () => {
  const p = await cluster();
  traffic = await Traffic.start(p.proxy);
  const targets = [p.node, p.memcached, p.proxy, p.nowhere].map((port) => `127.0.0.1:${port}`);
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'top', '-n', '2', '-d', '0.5', ...targets], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Two refreshes take about a second; a hang fails the test rather than the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
  assert.is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.is(lines.length, 8, r.out);
  const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
  const counters = 'ops/s=(\\d+) get/s=(\\d+) set/s=(\\d+) delete/s=\\d+ hit=([\\d.]+)% bytes=(\\d+) limit=(\\d+) items=(\\d+) evictions/s=0 conns=\\d+';
  for (const refresh of [lines.slice(0, 4), lines.slice(4)]) {
    const node = new RegExp(`^${time} 127\\.0\\.0\\.1:${p.node} node ${counters} repl=in_sync lag_records=\\d+ lag_ms=\\d+$`).exec(refresh[0]!);
    assert.ok(node, refresh[0]);
    assert.ok(Number(node![2]) > 0, 'the node serves gets');
    assert.ok(Number(node![7]) > 0 && Number(node![6]) === 64 * 1024 * 1024, refresh[0]);
    assert.match(refresh[1]!, new RegExp(`^${time} 127\\.0\\.0\\.1:${p.memcached} memcached ${counters}$`));
    const proxied = new RegExp(`^${time} 127\\.0\\.0\\.1:${p.proxy} proxy ${counters} backends=127\\.0\\.0\\.1:${p.node}/up/p99=\\d+us,127\\.0\\.0\\.1:${p.memcached}/up/p99=\\d+us$`).exec(refresh[2]!);
    assert.ok(proxied, refresh[2]);
    // Half the gets miss: the hit ratio over the interval says so.
    const hit = Number(proxied![4]);
    assert.ok(hit > 35 && hit < 65, `hit ratio ${hit}%`);
    assert.match(refresh[3]!, new RegExp(`^${time} 127\\.0\\.0\\.1:${p.nowhere} down error="ECONNREFUSED"$`));
  }
});

/** A tmux server of the test's own (-L), so nothing else on the machine is touched. */
function tmux(socket: string, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`tmux: ${r.error.message} (top's terminal test needs tmux: apt-get install tmux)`);
  return { code: r.status, out: r.stdout };
}

test('in a terminal (tmux), top draws the screen, refreshes it every second, and quits on q', async () => {
  const p = await cluster();
  traffic = await Traffic.start(p.proxy);
  const socket = `mcha-top-${process.pid}`;
  const targets = [p.node, p.peer, p.memcached, p.proxy, p.nowhere].map((port) => `127.0.0.1:${port}`);
  const command = [process.execPath, BIN, 'top', ...targets].map((a) => `'${a}'`).join(' ');
  assert.is(tmux(socket, 'new-session', '-d', '-s', 'top', '-x', '132', '-y', '50', command).code, 0);
  try {
    const screenWith = (what: RegExp, ms = 10_000): Promise<string> =>
      waitFor(`a screen matching ${what}`, ms, () => {
        const screen = tmux(socket, 'capture-pane', '-p', '-t', 'top').out;
        return what.test(screen) ? screen : undefined;
      });
    const screen = await screenWith(/ops\/s\s+[1-9][\d,]*/);
    const clock = /top {3}(\d\d:\d\d:\d\d) {3}every 1 s {3}q quits/.exec(screen);
    assert.ok(clock, screen);
    assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${p.node}  node 1\\.6\\.\\d+-mhn\\.\\S+  ${ENGINE}`));
    assert.match(screen, /replication {2}in_sync with 127\.0\.0\.1:\d+ {3}lag \d+ records, \d+ ms/);
    assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${p.memcached}  memcached 1\\.6\\.\\d+`));
    assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${p.proxy}  proxy \\S+  2 shards \\(2 answered\\)`));
    assert.match(screen, /memory {3}[\d.]+ MB of 64\.0 MB \(\d+%\) {3}items [\d,]+ {3}evictions\/s 0/);
    assert.match(screen, /hits \d+\.\d%/);
    assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${p.node} +0 +up +[\\d,]+ +[\\d.]+ (us|ms)`));
    assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${p.memcached} +1 +up `));
    assert.match(screen, new RegExp(`127\\.0\\.0\\.1:${p.nowhere}  down: ECONNREFUSED`));
    // The next refresh redraws: the clock moves on.
    await screenWith(new RegExp(`top {3}(?!${clock![1]})\\d\\d:\\d\\d:\\d\\d`), 5000);
    tmux(socket, 'send-keys', '-t', 'top', 'q');
    await waitFor('top to quit on q', 5000, () => (tmux(socket, 'has-session', '-t', 'top').code !== 0 ? true : undefined));
  } finally {
    tmux(socket, 'kill-server');
  }
});

test.run();
