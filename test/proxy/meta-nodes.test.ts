import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../helpers/random';
import { RawClient } from '../helpers/client';
import { exchange, metaRequest } from '../helpers/meta-traffic';
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

const KEYS = Array.from({ length: 30 }, (_, i) => `n:${i}`);
const SEEDS = (process.env.PROXY_SEEDS ?? `1,${Date.now() % 100000}`).split(',').map(Number);

test('randomized pipelined meta commands get the same bytes as from one memcached, on the C++ path', async () => {
  const stats = async () => Number(parseStats(await command(proxy.port, 'stats proxy\r\n')).get('client_handoffs'));
  const before = await stats();
  for (const seed of SEEDS) {
    await Promise.all([...nodes, oracle].map((n) => command(n.port, 'flush_all\r\n', 'OK\r\n')));
    const r = new Random(seed);
    const viaProxy = await RawClient.connect(proxy.port);
    const direct = await RawClient.connect(oracle.port);
    for (let round = 0; round < 100; round++) {
      const batch = Array.from({ length: r.int(1, 25) }, () => metaRequest(r, KEYS, true)).join('');
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
