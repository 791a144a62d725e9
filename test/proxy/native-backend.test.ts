import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplyFormatError, ReplyReader, ReplyShape } from '../../src/proxy/reply-reader';
import { RawClient } from '../helpers/client';
import { DEV_ADDON_PATH, loadDevAddon, type DevAddon } from '../helpers/dev-addon';
import { Random } from '../helpers/random';
import { freePort, REPO_ROOT, SANITIZER_ENV, startMemcached, type RunningServer } from '../helpers/servers';

/**
 * The first pieces of the proxy's C++ data path: the reply framer (checked against the
 * TypeScript ReplyReader, an independent implementation of the same rules) and a pipelined
 * backend connection driven against the real memcached, byte for byte against a plain client.
 */
const test = suite('proxy C++ backend connection');

// The sanitizer build of the addon loads only into a process that preloads ASan (.ci/run's
// second pass): there this file runs again in such a child, whose result is the test.
if (process.env.SANITIZER_PRELOAD && !process.env.LD_PRELOAD) {
  test('the suite under AddressSanitizer/UBSan (in a child that preloads the runtime)', () => {
    const uvu = join(REPO_ROOT, 'node_modules', 'uvu', 'bin.js');
    const r = spawnSync(process.execPath, [uvu, join(REPO_ROOT, 'dist', 'test'), 'proxy/native-backend\\.test\\.js$'], { env: SANITIZER_ENV, encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.not.match(r.stderr, /ERROR: AddressSanitizer|runtime error:/);
  });
  test.run();
} else {
  nativeSuite();
}

function nativeSuite(): void {
  const loaded = loadDevAddon();
  if (!loaded) throw new Error(`the dev addon is not built (npm run build:dev): ${DEV_ADDON_PATH}`);
  const addon: DevAddon = loaded;
  const MAX_VALUE = 1024 * 1024;

  /** The TypeScript reader's verdict on one reply at the start of `b`, in frameReply's terms. */
  function tsFrame(b: Buffer, shape: ReplyShape): number {
    const r = new ReplyReader(MAX_VALUE);
    r.feed(b);
    try {
      const got = r.next(shape);
      return got === null ? 0 : got.length;
    } catch (err) {
      if (err instanceof ReplyFormatError) return -1;
      throw err;
    }
  }

  const SAMPLES: Array<[string, ReplyShape]> = [
    ['STORED\r\n', ReplyShape.Line],
    ['12\r\n', ReplyShape.Line],
    ['SERVER_ERROR out of memory\r\n', ReplyShape.Line],
    ['VALUE k 7 5\r\n', ReplyShape.Line],
    ['END\r\n', ReplyShape.Line],
    ['STAT pid 1\r\n', ReplyShape.Line],
    ['VALUE a 0 3\r\nEND\r\nEND\r\n', ReplyShape.Values],
    ['VALUE b 5 2 77\r\nhi\r\nVALUE c 0 0\r\n\r\nEND\r\n', ReplyShape.Values],
    ['END\r\n', ReplyShape.Values],
    ['CLIENT_ERROR bad data chunk\r\n', ReplyShape.Values],
    ['VALUE k 7 5\r\nhello\r\nSTORED\r\n', ReplyShape.Values],
    ['STORED\r\n', ReplyShape.Values],
    ['VALUE k 0 2\r\nhello\r\nEND\r\n', ReplyShape.Values],
    ['VALUE k 0 99999999999\r\n', ReplyShape.Values],
    ['STAT pid 1\r\nSTAT x y\r\nEND\r\n', ReplyShape.Stats],
    ['STAT a b\r\nDELETED\r\n', ReplyShape.Stats],
    ['ERROR\r\n', ReplyShape.Stats],
  ];

  test('the C++ framer agrees with the TypeScript reader, whole and cut at every byte', () => {
    for (const [text, shape] of SAMPLES) {
      const all = Buffer.from(text, 'latin1');
      for (let cut = 0; cut <= all.length; cut++) {
        const part = all.subarray(0, cut);
        assert.is(addon.proxyTest.frameReply(part, shape, MAX_VALUE), tsFrame(part, shape), `${JSON.stringify(text)} cut at ${cut}`);
      }
    }
    // The verdicts themselves, so that agreeing on a wrong answer fails too.
    assert.is(addon.proxyTest.frameReply(Buffer.from('VALUE k 7 5\r\n'), ReplyShape.Line, MAX_VALUE), -1);
    assert.is(addon.proxyTest.frameReply(Buffer.from('VALUE a 0 3\r\nEND\r\nEND\r\nSTORED\r\n'), ReplyShape.Values, MAX_VALUE), 23);
    assert.is(addon.proxyTest.frameReply(Buffer.from('x'.repeat(70_000)), ReplyShape.Line, MAX_VALUE), -1);
  });

  function roundTrip(port: number, requests: Array<[string, ReplyShape]>): Promise<{ replies: string[]; failure: string | null; waiting: number }> {
    const bytes = requests.map(([r]) => Buffer.from(r, 'latin1'));
    return new Promise((resolve) => {
      addon.proxyTest.roundTrip(port, Buffer.concat(bytes), Int32Array.from(bytes.map((b) => b.length)), Int32Array.from(requests.map(([, s]) => s)), MAX_VALUE, (replies, failure, waiting) =>
        resolve({ replies: replies.map((b) => b.toString('latin1')), failure, waiting }),
      );
    });
  }

  /** A random pipelined batch that memcached answers the same way every time (no CAS, no stats values). */
  function batch(r: Random, n: number): Array<[string, ReplyShape]> {
    const out: Array<[string, ReplyShape]> = [];
    for (let i = 0; i < n; i++) {
      const key = `k${r.int(0, 20)}`;
      const kind = r.int(0, 6);
      if (kind === 0) {
        const v = 'v'.repeat(r.chance(0.05) ? r.int(100_000, 1_000_000) : r.int(0, 300));
        out.push([`set ${key} ${r.int(0, 9)} 0 ${v.length}\r\n${v}\r\n`, ReplyShape.Line]);
      } else if (kind === 1) out.push([`get ${key}\r\n`, ReplyShape.Values]);
      else if (kind === 2) out.push([`get ${key} k${r.int(0, 20)} k${r.int(0, 20)}\r\n`, ReplyShape.Values]);
      else if (kind === 3) out.push([`delete ${key}\r\n`, ReplyShape.Line]);
      else if (kind === 4) out.push([`incr n${r.int(0, 3)} ${r.int(1, 9)}\r\n`, ReplyShape.Line]);
      else if (kind === 5) out.push([`append ${key} 0 0 3\r\nabc\r\n`, ReplyShape.Line]);
      else out.push([`touch ${key} 100\r\n`, ReplyShape.Line]);
    }
    return out;
  }

  let a: RunningServer;
  let b: RunningServer;
  test.before(async () => {
    [a, b] = await Promise.all([startMemcached(), startMemcached()]);
  });
  test.after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  test('pipelined batches: every reply whole, in order, byte for byte what a plain client reads', async () => {
    const r = new Random(Number(process.env.BACKEND_SEED ?? 7));
    const direct = await RawClient.connect(b.port);
    for (let round = 0; round < 20; round++) {
      const reqs = batch(r, r.int(1, 200));
      if (round === 0) reqs.unshift(['set n0 0 0 1\r\n0\r\n', ReplyShape.Line], ['set n1 0 0 1\r\n0\r\n', ReplyShape.Line], ['set n2 0 0 1\r\n0\r\n', ReplyShape.Line], ['set n3 0 0 1\r\n0\r\n', ReplyShape.Line]);
      const got = await roundTrip(a.port, reqs);
      assert.is(got.failure, null, `round ${round}`);
      assert.is(got.replies.length, reqs.length);
      direct.send(reqs.map(([x]) => x).join(''));
      const want = await direct.readBytes(Buffer.byteLength(got.replies.join(''), 'latin1'), 10_000);
      assert.is(got.replies.join(''), want, `round ${round}`);
    }
    direct.close();
  });

  test('stats: one reply of STAT lines up to END', async () => {
    const got = await roundTrip(a.port, [['stats\r\n', ReplyShape.Stats], ['version\r\n', ReplyShape.Line]]);
    assert.is(got.failure, null);
    assert.match(got.replies[0]!, /^STAT pid \d+\r\n(STAT [^\r\n]+\r\n)+END\r\n$/);
    assert.match(got.replies[1]!, /^VERSION /);
  });

  test('a reply out of step ends the connection and hands back what waited', async () => {
    // A get read as if it were a set: the VALUE line cannot be a one-line reply.
    await roundTrip(a.port, [['set oos 0 0 1\r\nx\r\n', ReplyShape.Line]]);
    const got = await roundTrip(a.port, [['get oos\r\n', ReplyShape.Line], ['version\r\n', ReplyShape.Line]]);
    assert.is(got.failure, 'reply out of step');
    assert.equal(got.replies, []);
    assert.is(got.waiting, 2);
  });

  test('a node that is not there: the connection fails with every request handed back', async () => {
    const port = await freePort();
    const got = await roundTrip(port, [['get x\r\n', ReplyShape.Values], ['get y\r\n', ReplyShape.Values]]);
    assert.is(got.failure, 'ECONNREFUSED');
    assert.is(got.waiting, 2);
  });

  test.run();
}
