import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode, Status } from '../../../src/protocol/binary';
import { exchange, request, splitResponses } from '../../helpers/binary-packets';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../../helpers/servers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const memjs = require('memjs') as MemjsModule;

/**
 * memjs 1.3.2, the most used Node.js client (binary protocol only), through its whole API
 * against the node under test; every call's outcome must also be what memcached 1.6.18 gives
 * the same calls. memjs 1.3.2 has no getMulti: the multi-get its later releases and dalli send
 * (getkq for each key, then noop) is sent raw.
 */
interface MemjsClient {
  get(key: string): Promise<{ value: Buffer | null; flags: Buffer | null }>;
  set(key: string, value: string, options?: { expires?: number }): Promise<boolean>;
  add(key: string, value: string, options?: { expires?: number }): Promise<boolean>;
  replace(key: string, value: string, options?: { expires?: number }): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  increment(key: string, amount: number, options?: { initial?: number; expires?: number }): Promise<{ success: boolean; value: number | null }>;
  decrement(key: string, amount: number, options?: { initial?: number; expires?: number }): Promise<{ success: boolean; value: number | null }>;
  append(key: string, value: string): Promise<boolean>;
  prepend(key: string, value: string): Promise<boolean>;
  touch(key: string, expires: number): Promise<boolean>;
  flush(): Promise<Record<string, boolean | Error>>;
  stats(cb: (err: Error | null, server: string, stats: Record<string, string> | null) => void): void;
  statsWithKey(key: string, cb: (err: Error | null, server: string, stats: Record<string, string> | null) => void): void;
  close(): void;
}
interface MemjsModule {
  Client: { create(servers: string, options?: Record<string, unknown>): MemjsClient };
}

const test = suite(`memjs [${ENGINE}]`);
const silent = { log: (): void => undefined };
let node: RunningServer;
let oracle: RunningServer;

test.before(async () => {
  [node, oracle] = await Promise.all([startNode(), startMemcached()]);
});
test.after(async () => {
  await Promise.all([node.stop(), oracle.stop()]);
});

function client(port: number): MemjsClient {
  return memjs.Client.create(`127.0.0.1:${port}`, { retries: 0, timeout: 2, logger: silent });
}

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));
/** A promise's outcome as data: the value, or the error's message. */
async function outcome<T>(p: Promise<T>): Promise<unknown> {
  try {
    const v = await p;
    if (v && typeof v === 'object' && 'value' in v && Buffer.isBuffer((v as { value: unknown }).value)) {
      const g = v as unknown as { value: Buffer; flags: Buffer | null };
      return { value: text(g.value), flags: g.flags?.toString('hex') ?? null };
    }
    return v;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

function stats(c: MemjsClient, key: string): Promise<Record<string, string> | string> {
  return new Promise((resolve) => {
    const cb = (err: Error | null, _server: string, s: Record<string, string> | null): void => resolve(err ? `error: ${err.message}` : s!);
    if (key === '') c.stats(cb);
    else c.statsWithKey(key, cb);
  });
}

/** The same calls on one server; returns every outcome, in order. */
async function scenario(port: number): Promise<Array<[string, unknown]>> {
  const c = client(port);
  const out: Array<[string, unknown]> = [];
  const step = async (name: string, p: Promise<unknown>): Promise<void> => {
    out.push([name, await outcome(p)]);
  };
  try {
    await step('flush', c.flush().then((r) => Object.values(r)));
    await step('get miss', c.get('mj:a'));
    await step('set', c.set('mj:a', 'hello'));
    await step('get hit', c.get('mj:a'));
    await step('add existing', c.add('mj:a', 'x'));
    await step('add new', c.add('mj:b', 'bee'));
    await step('replace missing', c.replace('mj:c', 'x'));
    await step('replace existing', c.replace('mj:b', 'bee2'));
    await step('get replaced', c.get('mj:b'));
    await step('append', c.append('mj:a', ' world'));
    await step('prepend', c.prepend('mj:a', '>> '));
    await step('append missing', c.append('mj:none', 'x'));
    await step('prepend missing', c.prepend('mj:none', 'x'));
    await step('get appended', c.get('mj:a'));
    await step('increment creates with initial', c.increment('mj:n', 5, { initial: 10 }));
    await step('increment', c.increment('mj:n', 5, {}));
    await step('decrement', c.decrement('mj:n', 3, {}));
    await step('decrement below zero', c.decrement('mj:n', 100, {}));
    await step('decrement creates', c.decrement('mj:m', 1, { initial: 7 }));
    await step('increment non-numeric', c.increment('mj:a', 1, {}));
    await step('touch', c.touch('mj:a', 100));
    await step('touch missing', c.touch('mj:none', 100));
    await step('set with expiry', c.set('mj:e', 'soon', { expires: 1000 }));
    await step('get with expiry', c.get('mj:e'));
    await step('delete', c.delete('mj:b'));
    await step('delete missing', c.delete('mj:b'));
    await step('get deleted', c.get('mj:b'));
    const s = await stats(c, '');
    out.push(['stats has cmd_get and curr_items', typeof s === 'string' ? s : [s.cmd_get !== undefined, s.curr_items, s.get_hits !== undefined]]);
    const st = await stats(c, 'settings');
    out.push(['stats settings has item_size_max', typeof st === 'string' ? st : st.item_size_max]);
    out.push(['stats reset', await stats(c, 'reset')]);
    await step('flush', c.flush().then((r) => Object.values(r)));
    await step('get after flush', c.get('mj:a'));
  } finally {
    c.close();
  }
  return out;
}

test('the whole API gives what memcached gives', async () => {
  const ours = await scenario(node.port);
  const theirs = await scenario(oracle.port);
  assert.equal(ours, theirs);
  const got = Object.fromEntries(ours);
  assert.equal(got['get hit'], { value: 'hello', flags: '00000000' });
  // memjs 1.3.2's prepend sends the append opcode (0x0e): memcached appends, and so do we.
  assert.equal(got['get appended'], { value: 'hello world>> ', flags: '00000000' });
  assert.equal(got['increment'], { success: true, value: 15 });
  assert.equal(got['decrement below zero'], { success: true, value: 0 });
  assert.equal(got['add existing'], false);
  assert.equal(got['get deleted'], { value: null, flags: null });
  assert.equal(got['stats has cmd_get and curr_items'], [true, '4', true]);
});

test("getMulti's packets (getkq for each key, then noop): hits in order, misses silent, noop last", async () => {
  const c = client(node.port);
  try {
    await c.set('mm:1', 'one');
    await c.set('mm:3', 'three');
  } finally {
    c.close();
  }
  const keys = ['mm:1', 'mm:2', 'mm:3'];
  const bytes = Buffer.concat([...keys.map((key, i) => request({ opcode: Opcode.GetKQ, key, opaque: i + 1 })), request({ opcode: Opcode.Noop, opaque: 99 })]);
  const { packets } = splitResponses((await exchange(node.port, bytes)).bytes);
  assert.equal(packets.map((p) => [p.opcode, p.status, p.opaque, p.key.toString(), p.value.toString()]), [
    [Opcode.GetKQ, Status.Success, 1, 'mm:1', 'one'],
    [Opcode.GetKQ, Status.Success, 3, 'mm:3', 'three'],
    [Opcode.Noop, Status.Success, 99, '', ''],
  ]);
});

test.run();
