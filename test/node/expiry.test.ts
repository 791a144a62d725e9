import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { parseStats } from '../helpers/proc-stats';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';

/** Behaviour that depends on the clock: generous bounds, seconds-scale waits. */
const test = suite(`expiry and delayed flush [${ENGINE}]`);
let server: RunningServer;
let c: RawClient;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  server = await startNode();
  c = await RawClient.connect(server.port);
});

test.after(async () => {
  c.close();
  await server.stop();
});

test('a relative TTL expires', async () => {
  assert.is(await c.call('set ttl 0 1 1\r\nx\r\nget ttl\r\n', 'END\r\n'), 'STORED\r\nVALUE ttl 0 1\r\nx\r\nEND\r\n');
  await sleep(2100);
  assert.is(await c.call('get ttl\r\n', 'END\r\n'), 'END\r\n');
});

test('an absolute TTL in the near future expires', async () => {
  const at = Math.floor(Date.now() / 1000) + 2;
  assert.is(await c.call(`set abs 0 ${at} 1\r\nx\r\n`), 'STORED\r\n');
  assert.is(await c.call('get abs\r\n', 'END\r\n'), 'VALUE abs 0 1\r\nx\r\nEND\r\n');
  await sleep(3100);
  assert.is(await c.call('get abs\r\n', 'END\r\n'), 'END\r\n');
});

test('touch extends a TTL', async () => {
  await c.call('set t 0 1 1\r\nx\r\n');
  assert.is(await c.call('touch t 100\r\n'), 'TOUCHED\r\n');
  await sleep(2100);
  assert.is(await c.call('get t\r\n', 'END\r\n'), 'VALUE t 0 1\r\nx\r\nEND\r\n');
});

test('flush_all with a delay empties the cache later, not now', async () => {
  await c.call('set f 0 0 1\r\nx\r\n');
  assert.is(await c.call('flush_all 3\r\n'), 'OK\r\n');
  assert.is(await c.call('get f\r\n', 'END\r\n'), 'VALUE f 0 1\r\nx\r\nEND\r\n');
  await sleep(3100);
  assert.is(await c.call('get f\r\n', 'END\r\n'), 'END\r\n');
  assert.is(await c.call('set g 0 0 1\r\ny\r\nget g\r\n', 'END\r\n'), 'STORED\r\nVALUE g 0 1\r\ny\r\nEND\r\n', 'new items live after the flush');
});

test('a later flush_all replaces a pending delayed one', async () => {
  await c.call('set h 0 0 1\r\nx\r\n');
  assert.is(await c.call('flush_all 2\r\n'), 'OK\r\n');
  assert.is(await c.call('flush_all 100\r\n'), 'OK\r\n');
  await sleep(2500);
  assert.is(await c.call('get h\r\n', 'END\r\n'), 'VALUE h 0 1\r\nx\r\nEND\r\n');
  assert.is(await c.call('flush_all\r\n'), 'OK\r\n');
});

test('the background sweep reclaims expired items nobody reads', async () => {
  let batch = '';
  for (let i = 0; i < 500; i++) batch += `set sweep-${i} 0 1 1 noreply\r\nx\r\n`;
  assert.is(await c.call(batch + 'mn\r\n'), 'MN\r\n');
  await sleep(2500);
  const s = parseStats(await c.call('stats\r\n', 'END\r\n'));
  assert.ok(Number(s.get('curr_items')) < 500, `curr_items ${s.get('curr_items')} after expiry`);
  assert.ok(Number(s.get('crawler_reclaimed')) >= 500, `crawler_reclaimed ${s.get('crawler_reclaimed')}`);
});

test.run();
