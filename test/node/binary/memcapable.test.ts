import { suite } from 'uvu';
import { assertAllPass, memcapable } from '../../helpers/memcapable';
import { ENGINE, startNode, type RunningServer } from '../../helpers/servers';

/**
 * libmemcached's memcapable (Debian's `memccapable`) with -b: its binary-protocol checks
 * against the node: all 27 pass.
 */
const test = suite(`memcapable -b [${ENGINE}]`);
let node: RunningServer | null = null;
test.after.each(async () => {
  await node?.stop();
  node = null;
});

test('every binary check passes against the node', async () => {
  node = await startNode();
  assertAllPass(await memcapable(node.port, 'binary'), 'binary');
});

test.run();
