import { startProxy } from '../helpers/proxies';
import { ENGINE, startMemcached, startNode } from '../helpers/servers';
import { differentialSuite } from '../node/differential/runner';

/**
 * The seeded differential test (test/node/differential/runner.ts) through the proxy over two
 * nodes of the engine under test, compared with one memcached: routing, splitting multi-gets,
 * reply order, quiet mode and mn across shards must not change a byte. CAS uniques are
 * numbered per key, since two nodes may hand out the same unique for different keys.
 */
differentialSuite({
  title: `differential through the proxy over two nodes vs memcached [${ENGINE}]`,
  async start() {
    const [a, b, oracle] = await Promise.all([startNode(), startNode(), startMemcached()]);
    const proxy = await startProxy(['-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`]);
    return {
      name: `proxy/${ENGINE}`,
      oracle,
      target: proxy,
      stop: async () => {
        await proxy.stop();
        await Promise.all([a.stop(), b.stop(), oracle.stop()]);
      },
    };
  },
  generator: { casWithKey: true, noGetDiscards: true, noRewriteAfterRead: true },
  casScope: 'key',
});
