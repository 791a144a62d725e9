import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../helpers/random';
import { RawClient } from '../helpers/client';
import { parseStats } from '../helpers/proc-stats';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../helpers/servers';

/**
 * Meta commands through the proxy over this package's nodes (the engine under test) instead
 * of memcached: the same bytes as one memcached gives, for the 1.6.18 flags whose answers
 * memcached fixes (meta.test.ts does the same over memcached backends, and the rest).
 */
const test = suite(`proxy meta commands over our nodes [${ENGINE}]`);
let nodes: RunningServer[] = [];
let oracle: RunningServer;
let proxy: RunningProxy;

test.before(async () => {
  nodes = await Promise.all([startNode(), startNode(), startNode()]);
  oracle = await startMemcached();
  proxy = await startProxy(nodes.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]));
});
test.after(async () => {
  await proxy?.stop();
  await Promise.all([...nodes.map((n) => n.stop()), oracle?.stop()]);
});

const b64 = (key: string): string => Buffer.from(key, 'latin1').toString('base64');
const KEYS = Array.from({ length: 30 }, (_, i) => `n:${i}`);
const SEEDS = (process.env.PROXY_SEEDS ?? `1,${Date.now() % 100000}`).split(',').map(Number);

/** Sends `batch` and an mn; reads up to that mn's MN (the batch's own mn lines answer MN too). */
async function exchange(c: RawClient, batch: string): Promise<string> {
  const want = batch.split('\r\n').filter((l) => l === 'mn').length + 1;
  c.send(`${batch}mn\r\n`);
  const mn = Buffer.from('MN\r\n');
  const got = await c.readUntil(`${want} MN lines`, (b) => {
    let n = 0;
    for (let at = b.indexOf(mn); at >= 0; at = b.indexOf(mn, at + mn.length)) n++;
    return n >= want && b.subarray(b.length - mn.length).equals(mn) ? b.length : -1;
  });
  return got.toString('latin1');
}

function metaRequest(r: Random): string {
  const key = r.pick(KEYS);
  const binary = r.chance(0.3);
  const k = binary ? `${b64(key)} b` : key;
  const flag = (f: string, p = 0.3) => (r.chance(p) ? ` ${f}` : '');
  const opaque = flag(`O${r.int(0, 99999)}`, 0.5);
  const q = flag('q', 0.3);
  const value = 'v'.repeat(r.chance(0.2) ? r.int(1000, 5000) : r.int(0, 20));
  return r.weighted<() => string>([
    [20, () => `mg ${k}${flag('v', 0.7)}${flag('k')}${flag('f')}${flag('s')}${opaque}${q}\r\n`],
    [15, () => `ms ${binary ? b64(key) : key} ${value.length}${binary ? ' b' : ''}${flag(`F${r.int(0, 9)}`)}${flag(`M${r.pick(['S', 'E', 'A', 'P', 'R'])}`)}${opaque}${q}${flag('k')}\r\n${value}\r\n`],
    [6, () => `md ${k}${opaque}${q}${flag('k')}\r\n`],
    [8, () => `ma ${k}${flag(`D${r.int(0, 50)}`)}${flag(`M${r.pick(['I', 'D', '+', '-'])}`)}${flag(`N0 J${r.int(0, 9)}`)}${flag('v')}${opaque}${q}\r\n`],
    [3, () => 'mn\r\n'],
    [3, () => `get ${key}\r\n`],
    [2, () => r.pick(['mg\r\n', 'ms k abc\r\n', 'ms k 2 ZZ\r\nxy\r\n', 'mg k q q\r\n', 'ma k MX q\r\n', 'mz k\r\n', `mg k O${'1'.repeat(40)}\r\n`])],
  ])();
}

test('randomized pipelined meta commands get the same bytes as from one memcached, on the C++ path', async () => {
  const stats = async () => Number(parseStats(await command(proxy.port, 'stats\r\n')).get('client_handoffs'));
  const before = await stats();
  for (const seed of SEEDS) {
    await Promise.all([...nodes, oracle].map((n) => command(n.port, 'flush_all\r\n', 'OK\r\n')));
    const r = new Random(seed);
    const viaProxy = await RawClient.connect(proxy.port);
    const direct = await RawClient.connect(oracle.port);
    for (let round = 0; round < 100; round++) {
      const batch = Array.from({ length: r.int(1, 25) }, () => metaRequest(r)).join('');
      const [got, want] = await Promise.all([exchange(viaProxy, batch), exchange(direct, batch)]);
      if (got !== want) assert.fixture(got, want, `seed ${seed} (replay with PROXY_SEEDS=${seed}), round ${round}, batch:\n${batch}`);
    }
    viaProxy.close();
    direct.close();
  }
  // Only the stats connections changed paths (on the C++ path; the TypeScript path counts none).
  assert.is(await stats(), before + (ENGINE === 'native' ? 1 : 0));
});

test.run();
