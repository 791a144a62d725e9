import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { Random } from '../helpers/random';
import { startProxy } from '../helpers/proxies';
import { ENGINE, startMemcached, startNode } from '../helpers/servers';
import { BinaryGenerator } from './differential/binary-generator';

/**
 * Bounded fuzzing over TCP: malformed, truncated, oversized and random input (text and meta
 * protocol, and binary packets: a connection whose first byte is 0x80), in batches, each on its own connection. After every batch a fresh connection must get exact answers to a
 * valid set and get: the process is alive, and bad input cost no other client its data.
 * (flush_all is left out: emptying the cache is a valid request, not bad input. Binary input
 * cannot leave it out, random bytes may make a flush packet: the servers run with -F.)
 * FUZZ_SEED replays a run; FUZZ_BATCHES resizes it.
 */
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BATCHES = Number(process.env.FUZZ_BATCHES ?? 300);

const COMMANDS = ['get', 'gets', 'gat', 'gats', 'set', 'add', 'replace', 'append', 'prepend', 'cas', 'incr', 'decr', 'delete', 'touch', 'stats', 'version', 'verbosity', 'mn', 'shutdown', 'mg', 'ms', 'md', 'ma', 'me'];
const TOKENS = ['0', '-1', '1', '4294967296', '18446744073709551616', '2147483647', '2147483648', '-2147483649', 'noreply', 'x'.repeat(251), 'k', '', ' ', '\t', '\x00', '99999999999', '1048600', '+1', 'abc',
  // Meta flags and their tokens: every letter memcached knows, bad numbers, long opaques, base64.
  'v', 'k', 'q', 'b', 'c', 'f', 'h', 'l', 's', 't', 'u', 'I', 'x', 'N30', 'T-1', 'R0', 'C0', 'E5', 'F4294967296', 'J99', 'D-1',
  'MA', 'MP', 'ME', 'MR', 'MS', 'MX', 'M', 'M+', 'MD', 'O', `O${'o'.repeat(40)}`, 'Zm9v', '!!!!', 'QUFB'.repeat(70)];

function line(r: Random): string {
  const parts = [r.pick(COMMANDS)];
  const n = r.int(0, 8);
  for (let i = 0; i < n; i++) parts.push(r.pick(TOKENS));
  return parts.join(r.chance(0.1) ? '  ' : ' ');
}

function mutate(r: Random, s: string): string {
  const b = [...s];
  const edits = r.int(1, 5);
  for (let i = 0; i < edits && b.length; i++) {
    const at = r.int(0, b.length - 1);
    const op = r.int(0, 3);
    if (op === 0) b[at] = String.fromCharCode(r.int(0, 255));
    else if (op === 1) b.splice(at, 1);
    else if (op === 2) b.splice(at, 0, r.pick(['\r', '\n', '\r\n', ' ', '\x00', '\xff']));
    else b.splice(at, b.length - at);
  }
  return b.join('');
}

/** A meta request, often well formed (an ms with its data block), sometimes mutated. */
function metaLine(r: Random): string {
  const flags = Array.from({ length: r.int(0, 22) }, () => r.pick(TOKENS.slice(19))).join(' ');
  const key = `f${r.int(0, 50)}`;
  const req = r.chance(0.4)
    ? `ms ${key} ${r.pick(['5', '0', '-1', 'x', '1048600'])} ${flags}\r\nhello\r\n`
    : `${r.pick(['mg', 'md', 'ma', 'me', 'mn'])} ${r.chance(0.2) ? 'Zm9v b' : key} ${flags}\r\n`;
  return r.chance(0.3) ? mutate(r, req) : req;
}

/**
 * Binary packets (the differential test's, malformed ones included) with random bytes changed,
 * cut or inserted, and headers with random lengths: text from here on (latin1).
 */
function binaryBatch(r: Random): string {
  const gen = new BinaryGenerator(r, 'f');
  const parts: Buffer[] = [];
  for (let i = r.int(1, 30); i > 0; i--) {
    let p = gen.next().bytes(() => BigInt(r.int(0, 1000)));
    if (p.length >= 24 && r.chance(0.2)) {
      p = Buffer.from(p);
      const field = r.pick([2, 4, 8, 10]);
      if (field === 8) p.writeUInt32BE(r.pick([0, 1, 0xffffffff, 0x7fffffff, r.int(0, 5000), 1048600]), 8);
      else if (field === 2) p.writeUInt16BE(r.pick([0, 251, 65535, r.int(0, 300)]), 2);
      else p[field] = r.int(0, 255);
    }
    parts.push(p);
  }
  const bytes = [...Buffer.concat(parts).toString('latin1')];
  if (r.chance(0.4)) return mutate(r, bytes.join(''));
  return bytes.join('');
}

function batch(r: Random): string {
  if (r.chance(0.25)) return '\x80' + binaryBatch(r).slice(1);
  let out = '';
  const n = r.int(1, 30);
  for (let i = 0; i < n; i++) {
    const kind = r.int(0, 7);
    if (kind === 0) out += line(r) + '\r\n';
    else if (kind === 1) {
      const v = 'v'.repeat(r.int(0, 3000));
      const declared = r.chance(0.7) ? v.length : r.int(0, 5000);
      out += `set f${r.int(0, 50)} ${r.int(0, 9)} 0 ${declared}\r\n${v}\r\n`;
    } else if (kind === 2) out += mutate(r, `set f${r.int(0, 50)} 0 0 5\r\nhello\r\n`);
    else if (kind === 3) {
      let junk = '';
      for (let j = r.int(1, 300); j > 0; j--) junk += String.fromCharCode(r.int(0, 255));
      out += junk;
    } else if (kind === 4) out += `get ${Array.from({ length: r.int(1, 300) }, () => `f${r.int(0, 60)}`).join(' ')}\r\n`;
    else if (kind === 5) out += mutate(r, line(r) + '\r\n');
    else if (kind === 6) out += metaLine(r);
    else out += r.chance(0.5) ? 'x'.repeat(r.int(2000, 3000)) : `set big 0 0 ${r.int(1048500, 1048700)}\r\n`;
  }
  return out;
}

interface Target {
  port: number;
  stop(): Promise<void>;
}

/** The same hostile batches against one target: a node, or the proxy in front of two nodes. */
function fuzzSuite(what: string, start: () => Promise<Target>): void {
  const test = suite(`fuzz ${what} (seed ${seed}) [${ENGINE}]`);
  let target: Target;
  test.before(async () => {
    target = await start();
  });
  test.after(async () => {
    await target.stop();
  });

  test(`${BATCHES} batches of hostile input; a valid client is always served exactly`, async () => {
    const r = new Random(seed);
    for (let i = 0; i < BATCHES; i++) {
      const hostile = await RawClient.connect(target.port);
      hostile.send(batch(r));
      if (r.chance(0.5)) await new Promise((res) => setTimeout(res, r.int(0, 3)));
      hostile.close();
      const probe = await RawClient.connect(target.port);
      const value = `ok-${i}`;
      const reply = await probe.call(`set probe-${i} 7 0 ${value.length}\r\n${value}\r\nget probe-${i}\r\n`, 'END\r\n', 5000).catch((err: Error) => {
        throw new Error(`seed ${seed} (replay: FUZZ_SEED=${seed}), batch ${i}: ${err.message}`);
      });
      probe.close();
      assert.is(reply, `STORED\r\nVALUE probe-${i} 7 ${value.length}\r\n${value}\r\nEND\r\n`, `seed ${seed}, batch ${i}`);
    }
  });

  test('the data written before the fuzzing is still there', async () => {
    const c = await RawClient.connect(target.port);
    assert.is(await c.call('get probe-0\r\n', 'END\r\n'), 'VALUE probe-0 7 4\r\nok-0\r\nEND\r\n');
    c.close();
  });

  test.run();
}

fuzzSuite('a node', () => startNode(['-m', '16', '-c', '200', '-F']));

// Through the proxy: its framing (native or TypeScript, as the engine under test) meets the
// same input first, and whatever it forwards must not upset the nodes behind it. In front of
// the real memcached too: the proxy must agree with memcached itself on which requests get a
// reply (a disagreement hands one client another's reply; "delete noreply" once did).
for (const [what, start] of [['the proxy', startNode], ['the proxy over memcached', startMemcached]] as const) {
  fuzzSuite(what, async () => {
    const nodes = await Promise.all([start(['-m', '16', '-F']), start(['-m', '16', '-F'])]);
    const proxy = await startProxy([...nodes.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), '-n', '200']);
    return {
      port: proxy.port,
      stop: async () => {
        await proxy.stop();
        await Promise.all(nodes.map((n) => n.stop()));
      },
    };
  });
}
