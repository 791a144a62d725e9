import Memcached from 'memcached';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';

/** The `memcached` npm client, as an application would use it. */
const test = suite(`memcached npm client [${ENGINE}]`);
let server: RunningServer;
let client: Memcached;

function call<T>(fn: (cb: (err: unknown, result: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

test.before(async () => {
  server = await startNode();
  client = new Memcached(`127.0.0.1:${server.port}`, { retries: 0, timeout: 2000 });
});

test.after(async () => {
  client.end();
  await server.stop();
});

test('set, get, getMulti, delete', async () => {
  assert.ok(await call<boolean>((cb) => client.set('greeting', 'hello', 100, cb)));
  assert.is(await call<string>((cb) => client.get('greeting', cb)), 'hello');
  await call<boolean>((cb) => client.set('n', 42, 100, cb));
  assert.equal(await call<Record<string, unknown>>((cb) => client.getMulti(['greeting', 'n', 'missing'], cb)), { greeting: 'hello', n: 42 });
  assert.ok(await call<boolean>((cb) => client.del('greeting', cb)));
  assert.is(await call<unknown>((cb) => client.get('greeting', cb)), undefined);
});

test('JSON objects and binary buffers round-trip (flags carry the type)', async () => {
  const obj = { a: 1, list: [1, 2, 3], text: 'ünïcödé' };
  await call<boolean>((cb) => client.set('obj', obj, 100, cb));
  assert.equal(await call<unknown>((cb) => client.get('obj', cb)), obj);
  const bin = Buffer.from([0, 1, 2, 13, 10, 255]);
  await call<boolean>((cb) => client.set('bin', bin, 100, cb));
  assert.equal(Buffer.from(await call<Buffer>((cb) => client.get('bin', cb))), bin);
});

test('add, replace, append, prepend', async () => {
  await call<boolean>((cb) => client.set('s', 'b', 100, cb));
  assert.not.ok(await call<boolean>((cb) => client.add('s', 'x', 100, cb)).catch(() => false));
  assert.ok(await call<boolean>((cb) => client.replace('s', 'c', 100, cb)));
  assert.ok(await call<boolean>((cb) => client.append('s', 'd', cb)));
  assert.ok(await call<boolean>((cb) => client.prepend('s', 'a', cb)));
  assert.is(await call<string>((cb) => client.get('s', cb)), 'acd');
});

test('gets and cas', async () => {
  await call<boolean>((cb) => client.set('c', 'v1', 100, cb));
  const got = await call<{ [key: string]: unknown; cas: string }>((cb) => client.gets('c', cb));
  assert.is(got.c, 'v1');
  assert.ok(await call<boolean>((cb) => client.cas('c', 'v2', got.cas, 100, cb)));
  assert.not.ok(await call<boolean>((cb) => client.cas('c', 'v3', got.cas, 100, cb)));
  assert.is(await call<string>((cb) => client.get('c', cb)), 'v2');
});

test('incr and decr', async () => {
  await call<boolean>((cb) => client.set('counter', '10', 100, cb));
  assert.is(await call<number | boolean>((cb) => client.incr('counter', 5, cb)), 15);
  assert.is(await call<number | boolean>((cb) => client.decr('counter', 20, cb)), 0);
});

test('touch, version, stats, flush', async () => {
  await call<boolean>((cb) => client.set('t', 'x', 100, cb));
  await call<void>((cb) => client.touch('t', 200, (err) => cb(err, undefined)));
  assert.is(await call<string>((cb) => client.get('t', cb)), 'x');
  const versions = await call<Array<{ version: string }>>((cb) => client.version(cb));
  assert.ok(versions[0]!.version.length > 0);
  const stats = await call<Array<Record<string, unknown>>>((cb) => client.stats(cb));
  assert.is(String(stats[0]!.engine), ENGINE);
  await call<unknown>((cb) => client.flush(cb));
  assert.is(await call<unknown>((cb) => client.get('t', cb)), undefined);
});

test('a 500 KB value', async () => {
  const big = 'x'.repeat(500 * 1024);
  await call<boolean>((cb) => client.set('big', big, 100, cb));
  assert.is((await call<string>((cb) => client.get('big', cb))).length, big.length);
});

test.run();
