import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../helpers/random';
import { Ketama } from '../../src/proxy/ketama';
import { RawClient } from '../helpers/client';
import { parseStats } from '../helpers/proc-stats';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../helpers/servers';

/**
 * A client's connection through the proxy: with the addon, the C++ data path serves it while
 * its requests are plain (one key or keys on one node, no noreply) and hands it to the
 * TypeScript path at its first other request. Either way the client sees memcached's bytes in
 * its request order, whatever the splits of its input.
 */
const test = suite(`proxy client path [${ENGINE}]`);
let nodes: RunningServer[] = [];
let oracle: RunningServer;
let proxy: RunningProxy;

test.before(async () => {
  nodes = await Promise.all([startNode(), startNode()]);
  oracle = await startMemcached();
  proxy = await startProxy(nodes.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]));
});
test.after(async () => {
  await proxy?.stop();
  await Promise.all([...nodes.map((n) => n.stop()), oracle?.stop()]);
});

const KEYS = Array.from({ length: 30 }, (_, i) => `p:${i}`);
const SEEDS = (process.env.PROXY_SEEDS ?? `1,${Date.now() % 100000}`).split(',').map(Number);

/** `client_handoffs` before this call's own connection (`stats` is for the TypeScript path too). */
async function handoffs(): Promise<number> {
  const n = Number(parseStats(await command(proxy.port, 'stats proxy\r\n')).get('client_handoffs'));
  return ENGINE === 'native' ? n - 1 : n;
}

/** How many handoffs `n` connections that changed paths make on the engine under test, with the stats call before. */
const handed = (n: number): number => (ENGINE === 'native' ? n + 1 : 0);

/** Plain requests only: the C++ data path forwards every one of them (noreply ones without their token; gets and gats over several nodes split). */
function plainRequest(r: Random): string {
  const key = r.pick(KEYS);
  const nr = r.chance(0.15) ? r.pick([' noreply', ' noreply  ', '  noreply']) : '';
  const value = r.chance(0.3) ? String(r.int(0, 1000)) : 'v'.repeat(r.int(0, 3000));
  return r.weighted<() => string>([
    [20, () => `set ${key} ${r.int(0, 9)} 0 ${value.length}${nr}\r\n${value}\r\n`],
    [4, () => `add ${key} 1 0 ${value.length}${nr}\r\n${value}\r\n`],
    [4, () => `replace ${key} 2 0 ${value.length}${nr}\r\n${value}\r\n`],
    [3, () => `append ${key} 0 0 2${nr}\r\nab\r\n`],
    [3, () => `prepend ${key} 0 0 2${nr}\r\nzz\r\n`],
    [6, () => `${r.pick(['incr', 'decr'])} ${key} ${r.int(0, 50)}${nr}\r\n`],
    [5, () => `delete ${key}${nr}\r\n`],
    [3, () => `touch ${key} 0${nr}\r\n`],
    [25, () => `get ${key}\r\n`],
    [10, () => `get ${Array.from({ length: r.int(2, 12) }, () => r.pick(KEYS)).join(' ')}\r\n`],
    [4, () => `gat ${r.pick([0, 1000, -1])} ${Array.from({ length: r.int(1, 6) }, () => r.pick(KEYS)).join(' ')}\r\n`],
    [1, () => 'delete noreply\r\n'],
  ])();
}

/** Sends `data` in random pieces, each its own write, a little apart. */
async function sendInPieces(socket: RawClient, data: string, r: Random): Promise<void> {
  let at = 0;
  while (at < data.length) {
    const n = Math.min(data.length - at, r.chance(0.5) ? r.int(1, 20) : r.int(1, 5000));
    socket.send(data.slice(at, at + n));
    at += n;
    if (r.chance(0.3)) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

test('plain requests in any split get the same bytes as from memcached, and the connection stays on its path', async () => {
  const before = await handoffs();
  for (const seed of SEEDS) {
    const r = new Random(seed);
    const viaProxy = await RawClient.connect(proxy.port);
    const direct = await RawClient.connect(oracle.port);
    for (const c of [viaProxy, direct]) {
      c.send(KEYS.map((k) => `delete ${k}\r\n`).join(''));
      await c.readUntil('the deletes', (b) => (b.toString('latin1').split('\r\n').length > KEYS.length ? b.length : -1));
    }
    for (let round = 0; round < 60; round++) {
      // A get of a key set to a value unique to the round marks the end of the round's replies.
      const mark = `mark-${seed}-${round}`;
      const end = `set end 0 0 ${mark.length}\r\n${mark}\r\nget end\r\n`;
      const batch = Array.from({ length: r.int(1, 30) }, () => plainRequest(r)).join('') + end;
      const suffix = `VALUE end 0 ${mark.length}\r\n${mark}\r\nEND\r\n`;
      direct.send(batch);
      await sendInPieces(viaProxy, batch, r);
      const [got, want] = await Promise.all([viaProxy.readUntilSuffix(suffix, 5000), direct.readUntilSuffix(suffix, 5000)]);
      if (got !== want) assert.fixture(got, want, `seed ${seed} (replay with PROXY_SEEDS=${seed}), round ${round}, batch:\n${batch}`);
    }
    viaProxy.close();
    direct.close();
  }
  assert.is(await handoffs(), before + handed(0), 'no connection needed the TypeScript path');
});

test('a request for the TypeScript path in the middle of a pipeline: every reply in request order', async () => {
  const before = await handoffs();
  const c = await RawClient.connect(proxy.port);
  c.send('set h1 0 0 2\r\nab\r\nget h1\r\nversion\r\nget h1\r\ndelete h1\r\nget h1 h1\r\nset h1 0 0 1 noreply\r\nx\r\nget h1\r\n');
  const got = await c.readUntilSuffix('VALUE h1 0 1\r\nx\r\nEND\r\n');
  assert.match(got, /^STORED\r\nVALUE h1 0 2\r\nab\r\nEND\r\nVERSION \S+\r\nVALUE h1 0 2\r\nab\r\nEND\r\nDELETED\r\nEND\r\nVALUE h1 0 1\r\nx\r\nEND\r\n$/);
  // The connection keeps working, requests plain or not.
  c.send('get h1\r\nstats nonsense\r\nget h1\r\n');
  assert.is(await c.readUntilSuffix('ERROR\r\nVALUE h1 0 1\r\nx\r\nEND\r\n'), 'VALUE h1 0 1\r\nx\r\nEND\r\nERROR\r\nVALUE h1 0 1\r\nx\r\nEND\r\n');
  c.close();
  assert.is(await handoffs(), before + handed(1), 'one connection changed paths');
});

test('the request that needs the TypeScript path arrives in pieces, after plain ones in flight', async () => {
  const c = await RawClient.connect(proxy.port);
  c.send('set h2 0 0 3\r\nabc\r\nget h2\r\nbog');
  await new Promise((resolve) => setTimeout(resolve, 20));
  c.send('us\r\nget h2\r\nset h2 0 0 1\r');
  await new Promise((resolve) => setTimeout(resolve, 20));
  c.send('\nz\r\nget h2\r\n');
  assert.is(
    await c.readUntilSuffix('VALUE h2 0 1\r\nz\r\nEND\r\n'),
    'STORED\r\nVALUE h2 0 3\r\nabc\r\nEND\r\nERROR\r\nVALUE h2 0 3\r\nabc\r\nEND\r\nSTORED\r\nVALUE h2 0 1\r\nz\r\nEND\r\n',
  );
  c.close();
});

/** Sends `data`, shuts the write side, and returns everything received until the proxy closed. */
function halfClose(data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no close; got ${JSON.stringify(got)}`)), 5000);
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('end', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    });
    s.on('error', reject);
    s.end(data);
  });
}

test('a client that shuts its side gets every reply, then the connection ends (on either path)', async () => {
  await command(proxy.port, 'set hc 0 0 2\r\nhc\r\n', 'STORED\r\n');
  const plain = Array.from({ length: 50 }, () => 'get hc\r\n').join('');
  const one = 'VALUE hc 0 2\r\nhc\r\nEND\r\n';
  assert.is(await halfClose(plain), one.repeat(50));
  assert.is(await halfClose(`${plain}version\r\nget hc\r\n`), `${one.repeat(50)}VERSION ${/VERSION (\S+)/.exec(await command(proxy.port, 'version\r\n', '\r\n'))![1]}\r\n${one}`);
  // An incomplete last request is dropped, as memcached does at the end of input.
  assert.is(await halfClose('get hc\r\nget h'), one);
});

test('an unterminated line past 2048 bytes: memcached closes unless it is a get line; so does the proxy, after the replies owed', async () => {
  for (const port of [proxy.port, oracle.port]) {
    const c = await RawClient.connect(port);
    c.send(`get nothing\r\nset ${'k'.repeat(3000)}`);
    const got = await c.readUntil('the close', (b) => (c.isClosed ? b.length : -1), 3000);
    assert.is(got.toString('latin1'), 'END\r\n', `port ${port === proxy.port ? 'proxy' : 'memcached'}`);
    const g = await RawClient.connect(port);
    g.send(`get ${Array.from({ length: 400 }, (_, i) => `long:${i}`).join(' ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!g.isClosed, 'a get line may grow');
    g.send('\r\n');
    assert.is(await g.readUntilSuffix('END\r\n'), 'END\r\n');
    g.close();
  }
});

test('values larger than a read, pipelined with small ones, cross intact', async () => {
  const c = await RawClient.connect(proxy.port);
  const sizes = [70_000, 3, 300_000, 65_536, 1_000_000];
  const value = (i: number) => String.fromCharCode(65 + i).repeat(sizes[i]!);
  c.send(sizes.map((n, i) => `set lv${i} ${i} 0 ${n}\r\n${value(i)}\r\nget lv${i}\r\n`).join(''));
  const want = sizes.map((n, i) => `STORED\r\nVALUE lv${i} ${i} ${n}\r\n${value(i)}\r\nEND\r\n`).join('');
  const got = await c.readUntil('the replies', (b) => (b.length >= want.length ? want.length : -1), 10_000);
  assert.ok(got.toString('latin1') === want, 'every value byte for byte');
  c.close();
});

test('gets over keys on one node and over both: values in the order asked, duplicates and misses included', async () => {
  const c = await RawClient.connect(proxy.port);
  c.send(KEYS.map((k) => `set ${k} 0 0 ${k.length}\r\n${k}\r\n`).join(''));
  await c.readUntilSuffix('STORED\r\n'.repeat(KEYS.length));
  const ring = new Ketama(nodes.map((n) => ({ host: '127.0.0.1', port: n.port, weight: 1 })));
  const onFirst = KEYS.filter((k) => ring.memberOf(k) === 0);
  const before = await handoffs();
  for (const asked of [
    [onFirst[0]!, onFirst[1]!, 'missing', onFirst[0]!],
    [KEYS[0]!, KEYS[7]!, 'missing', KEYS[0]!, ...KEYS.slice(10, 25), KEYS[29]!, KEYS[7]!],
  ]) {
    c.send(`gets ${asked.join(' ')}\r\n`);
    const got = await c.readUntilSuffix('END\r\n');
    const keys = [...got.matchAll(/^VALUE (\S+) 0 \d+ \d+\r\n/gm)].map((m) => m[1]);
    assert.equal(keys, asked.filter((k) => k !== 'missing'));
  }
  assert.ok(new Set(KEYS.slice(10, 25).map((k) => ring.memberOf(k))).size === 2, 'the second get spans both nodes');
  c.close();
  assert.is(await handoffs(), before + handed(0), 'split gets stay on the C++ path');
});

test('-n counts clients on both paths: one over the limit is closed at once', async () => {
  const limited = await startProxy(['-n', '2', '-s', `127.0.0.1:${nodes[0]!.port}`]);
  try {
    const plain = await RawClient.connect(limited.port);
    plain.send('get n1\r\n');
    assert.is(await plain.readUntilSuffix('END\r\n'), 'END\r\n');
    const other = await RawClient.connect(limited.port);
    other.send('version\r\n');
    assert.match(await other.readUntilSuffix('\r\n'), /^VERSION /);
    const third = await RawClient.connect(limited.port);
    third.send('get n1\r\n');
    await third.readUntil('the close', (b) => (third.isClosed ? b.length : -1));
    // A place frees up when a client leaves.
    other.close();
    const again = await waitForServed(limited.port);
    assert.is(again, 'END\r\n');
    plain.close();
  } finally {
    await limited.stop();
  }
});

/** Connects until a connection is served (the proxy sees the freed place soon after the close). */
async function waitForServed(port: number): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const c = await RawClient.connect(port);
    c.send('get n1\r\n');
    try {
      const got = await c.readUntilSuffix('END\r\n', 1000);
      c.close();
      return got;
    } catch (err) {
      c.close();
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

test.run();
