import { ENGINE, startMemcached, startNode } from '../../helpers/servers';
import { binaryDifferentialSuite } from './binary-runner';

/** The seeded binary differential test (binary-runner.ts) against one node of the engine under test. */
binaryDifferentialSuite({
  title: `binary differential vs memcached [${ENGINE}]`,
  async start() {
    const [node, oracle] = await Promise.all([startNode(), startMemcached()]);
    return { name: `node/${ENGINE}`, oracle, target: node, stop: async () => { await Promise.all([node.stop(), oracle.stop()]); } };
  },
});
