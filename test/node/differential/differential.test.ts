import { ENGINE, startMemcached, startNode } from '../../helpers/servers';
import { differentialSuite } from './runner';

/** The seeded differential test (runner.ts) against one node of the engine under test. */
differentialSuite({
  title: `differential vs memcached [${ENGINE}]`,
  async start() {
    const [node, oracle] = await Promise.all([startNode(), startMemcached()]);
    return { name: `node/${ENGINE}`, oracle, target: node, stop: async () => { await Promise.all([node.stop(), oracle.stop()]); } };
  },
});
