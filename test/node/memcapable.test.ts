import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertAllPass, memcapable } from '../helpers/memcapable';
import { command } from '../helpers/replicas';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';

/**
 * libmemcached's memcapable (Debian's `memccapable`, libmemcached-tools), an outside tool that
 * clients' authors use to check a server: its ascii checks, against the node and through the
 * proxy in front of it. It reads the leading major.minor of `version` to decide which replies a
 * server owes, so this also checks that the version string says memcached 1.6.
 */
const test = suite(`memcapable -a [${ENGINE}]`);
let node: RunningServer | null = null;
let proxy: RunningProxy | null = null;
test.after.each(async () => {
  await proxy?.stop();
  proxy = null;
  await node?.stop();
  node = null;
});

test('version names memcached 1.6.18 first, this package after it, in one token', async () => {
  node = await startNode();
  assert.match(await command(node.port, 'version\r\n', '\r\n'), /^VERSION 1\.6\.18-mhn\.\d+\.\d+\.\d+\S*\r\n$/);
  assert.match(await command(node.port, 'stats\r\n'), /\r\nSTAT version 1\.6\.18-mhn\.\d+\.\d+\.\d+\S*\r\n/);
});

test('every ascii check passes against the node', async () => {
  node = await startNode();
  assertAllPass(await memcapable(node.port, 'ascii'), 'ascii');
});

test('every ascii check passes through the proxy', async () => {
  node = await startNode();
  proxy = await startProxy(['-s', `127.0.0.1:${node.port}`]);
  assert.match(await command(proxy.port, 'version\r\n', '\r\n'), /^VERSION 1\.6\.18-mhn\./);
  assertAllPass(await memcapable(proxy.port, 'ascii'), 'ascii');
});

test.run();
