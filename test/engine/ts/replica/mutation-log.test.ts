import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeRecords, RecordKind } from '../../../../src/engine/ts/replica/codec';
import { MutationLog } from '../../../../src/engine/ts/replica/mutation-log';
import { Item } from '../../../../src/engine/ts/store/item';

/** This node's own writes as records: what it logs decodes back to them, in order, across buffer growth. */
const test = suite('mutation log (unit)');

const V = 1_700_000_000_000 * 1024;

function drain(log: MutationLog): { records: ReturnType<typeof all>; count: number } {
  const out = Buffer.alloc(log.pending() + 8);
  const count = log.drainInto(out, 8);
  return { records: all(out.subarray(8)), count };
}
const all = (buf: Buffer) => [...decodeRecords(buf)].map((r) => ('value' in r ? { ...r, value: r.value.toString('latin1') } : r));

test('each kind of write: the record carries the item origin for sets and touches, the log origin for the rest', () => {
  const log = new MutationLog(7);
  const it = new Item('k', 3, 1_700_000_100, Buffer.from('val\r\n'), V, 2, V + 1);
  log.set(it);
  log.delete('gone', V + 2);
  log.touch(it);
  log.flush(V + 3);
  log.flushAt(1_700_000_050, V + 4);
  assert.is(log.end, log.pending());
  const { records, count } = drain(log);
  assert.is(count, 5);
  assert.equal(records, [
    { kind: RecordKind.Set, origin: 2, version: V, key: 'k', flags: 3, exptime: 1_700_000_100, touched: V + 1, value: 'val' },
    { kind: RecordKind.Delete, origin: 7, version: V + 2, key: 'gone' },
    { kind: RecordKind.Touch, origin: 2, version: V, key: 'k', exptime: 1_700_000_100, touched: V + 1 },
    { kind: RecordKind.Flush, origin: 7, version: V + 3 },
    { kind: RecordKind.FlushAt, origin: 7, version: V + 4, oldestLive: 1_700_000_050 },
  ]);
  assert.is(log.pending(), 0);
});

test('the stream offset counts every byte logged; records past the first buffer survive its growth', () => {
  const log = new MutationLog(1);
  const value = Buffer.from(`${'x'.repeat(300)}\r\n`);
  let end = 0;
  for (let i = 0; i < 1000; i++) log.set(new Item(`key:${i}:${'y'.repeat(i % 240)}`, i, 0, value, V + i, 1));
  end = log.end;
  const { records, count } = drain(log);
  assert.is(count, 1000);
  assert.is(records.length, 1000);
  records.forEach((r, i) => {
    assert.is(r.kind, RecordKind.Set);
    assert.is((r as { key: string }).key, `key:${i}:${'y'.repeat(i % 240)}`, `record ${i}`);
    assert.is(r.version, V + i);
  });
  assert.is(log.end, end, 'draining does not move the end');
  log.delete('k', V);
  assert.is(log.end, end + 14 + 1);
  assert.equal(drain(log).records, [{ kind: RecordKind.Delete, origin: 1, version: V, key: 'k' }]);
});

test('the listener runs once per loop turn, after the writes of that turn', async () => {
  const log = new MutationLog(1);
  let calls = 0;
  let seen = 0;
  log.onRecords(() => {
    calls++;
    seen = drain(log).count;
  });
  for (let i = 0; i < 3; i++) log.delete(`k${i}`, V + i);
  assert.is(calls, 0, 'not within the turn');
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(calls, 1);
  assert.is(seen, 3);
  log.flush(V + 10);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(calls, 2);
  assert.is(seen, 1);
});

test.run();
