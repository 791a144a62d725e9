import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkLengths, commandOf, counterValue, decodeHeader, errorPacket, frameFits, lengthsAllowed,
  Opcode, responsePacket, statPacket, Status, statusText, type RequestHeader,
} from '../../src/protocol/binary';
import { request, splitResponses } from '../helpers/binary-packets';

/**
 * The binary codec against memcached 1.6.18's rules (proto_bin.c's dispatch_bin_command and
 * write_bin_error); the node end to end against the real memcached is in test/node/binary/.
 */
const test = suite('binary protocol codec (unit)');

function header(opcode: number, extrasLength: number, keyLength: number, bodyLength: number): RequestHeader {
  return { magic: 0x80, opcode, extrasLength, keyLength, bodyLength, opaque: 0, cas: 0n };
}

test('decodes a header in network order', () => {
  const p = request({ opcode: Opcode.Set, key: 'abc', extras: Buffer.alloc(8), value: 'hello', opaque: 0xdeadbeef, cas: 0x0102030405060708n });
  const h = decodeHeader(p, 0);
  assert.equal(h, { magic: 0x80, opcode: 1, keyLength: 3, extrasLength: 8, bodyLength: 16, opaque: 0xdeadbeef, cas: 0x0102030405060708n });
});

test('quiet opcodes fold into their commands; the rest stand as they are', () => {
  const pairs: Array<[number, number]> = [
    [Opcode.GetQ, Opcode.Get], [Opcode.GetKQ, Opcode.GetK], [Opcode.SetQ, Opcode.Set], [Opcode.AddQ, Opcode.Add],
    [Opcode.ReplaceQ, Opcode.Replace], [Opcode.DeleteQ, Opcode.Delete], [Opcode.IncrementQ, Opcode.Increment],
    [Opcode.DecrementQ, Opcode.Decrement], [Opcode.QuitQ, Opcode.Quit], [Opcode.FlushQ, Opcode.Flush],
    [Opcode.AppendQ, Opcode.Append], [Opcode.PrependQ, Opcode.Prepend], [Opcode.GatQ, Opcode.Gat], [Opcode.GatKQ, Opcode.GatK],
  ];
  for (const [q, op] of pairs) assert.equal(commandOf(q), { op, quiet: true });
  for (const op of [Opcode.Get, Opcode.Touch, Opcode.Noop, Opcode.Stat, Opcode.Verbosity, 0x55]) assert.equal(commandOf(op), { op, quiet: false });
});

test('a key and extras longer than the body do not fit', () => {
  assert.ok(frameFits(header(Opcode.Get, 0, 3, 3)));
  assert.not.ok(frameFits(header(Opcode.Get, 0, 4, 3)));
  assert.not.ok(frameFits(header(Opcode.Set, 8, 3, 10)));
  assert.ok(frameFits(header(Opcode.Set, 8, 3, 11)));
});

test("each opcode's extras, key and body rules", () => {
  const ok = (op: number, e: number, k: number, b: number): boolean | null => lengthsAllowed(op, header(op, e, k, b));
  for (const op of [Opcode.Version, Opcode.Noop, Opcode.Quit, Opcode.SaslListMechs]) {
    assert.ok(ok(op, 0, 0, 0));
    assert.not.ok(ok(op, 0, 0, 1));
    assert.not.ok(ok(op, 0, 1, 1));
    assert.not.ok(ok(op, 4, 0, 4));
  }
  assert.ok(ok(Opcode.Flush, 0, 0, 0));
  assert.ok(ok(Opcode.Flush, 4, 0, 4));
  assert.not.ok(ok(Opcode.Flush, 8, 0, 8));
  assert.not.ok(ok(Opcode.Flush, 4, 0, 5));
  assert.not.ok(ok(Opcode.Flush, 0, 1, 1));
  for (const op of [Opcode.Set, Opcode.Add, Opcode.Replace]) {
    assert.ok(ok(op, 8, 1, 9));
    assert.ok(ok(op, 8, 1, 100));
    assert.not.ok(ok(op, 8, 0, 8));
    assert.not.ok(ok(op, 4, 1, 9));
  }
  for (const op of [Opcode.Get, Opcode.GetK, Opcode.Delete]) {
    assert.ok(ok(op, 0, 3, 3));
    assert.not.ok(ok(op, 0, 3, 4));
    assert.not.ok(ok(op, 0, 0, 0));
    assert.not.ok(ok(op, 4, 3, 7));
  }
  for (const op of [Opcode.Increment, Opcode.Decrement]) {
    assert.ok(ok(op, 20, 1, 21));
    assert.not.ok(ok(op, 20, 1, 22));
    assert.not.ok(ok(op, 8, 1, 9));
    assert.not.ok(ok(op, 20, 0, 20));
  }
  for (const op of [Opcode.Append, Opcode.Prepend]) {
    assert.ok(ok(op, 0, 1, 1));
    assert.ok(ok(op, 0, 1, 50));
    assert.not.ok(ok(op, 8, 1, 50));
    assert.not.ok(ok(op, 0, 0, 5));
  }
  assert.ok(ok(Opcode.Stat, 0, 0, 0));
  assert.ok(ok(Opcode.Stat, 0, 5, 9));
  assert.not.ok(ok(Opcode.Stat, 4, 0, 4));
  for (const op of [Opcode.SaslAuth, Opcode.SaslStep]) {
    assert.ok(ok(op, 0, 5, 20));
    assert.not.ok(ok(op, 0, 0, 20));
    assert.not.ok(ok(op, 4, 5, 20));
  }
  for (const op of [Opcode.Touch, Opcode.Gat, Opcode.GatK]) {
    assert.ok(ok(op, 4, 1, 5));
    assert.ok(ok(op, 4, 1, 9));
    assert.not.ok(ok(op, 0, 1, 1));
    assert.not.ok(ok(op, 4, 0, 4));
  }
  assert.is(ok(Opcode.Verbosity, 4, 0, 4), null);
  assert.is(ok(0x55, 0, 0, 0), null);
});

test('the key limit comes before the opcode: even an unknown opcode with a long key is a protocol error', () => {
  assert.is(checkLengths(Opcode.Get, header(Opcode.Get, 0, 251, 251)), 'key');
  assert.is(checkLengths(0x55, header(0x55, 0, 251, 251)), 'key');
  assert.is(checkLengths(0x55, header(0x55, 0, 250, 250)), 'unknown');
  assert.is(checkLengths(Opcode.Get, header(Opcode.Get, 0, 250, 250)), 'ok');
  assert.is(checkLengths(Opcode.Get, header(Opcode.Get, 0, 250, 251)), 'invalid');
});

test("error packets carry write_bin_error's texts, CAS 0 and the opaque", () => {
  const p = errorPacket(Opcode.Get, Status.KeyNotFound, 0x01020304);
  const [r] = splitResponses(p).packets;
  assert.equal([r!.magic, r!.opcode, r!.status, r!.opaque, r!.cas, r!.value.toString()], [0x81, 0, 1, 0x01020304, 0n, 'Not found']);
  assert.is(p.length, 24 + 9);
  assert.is(statusText(Status.KeyExists), 'Data exists for key.');
  assert.is(statusText(Status.TooLarge), 'Too large.');
  assert.is(statusText(Status.InvalidArguments), 'Invalid arguments');
  assert.is(statusText(Status.NotStored), 'Not stored.');
  assert.is(statusText(Status.NonNumeric), 'Non-numeric server-side value for incr or decr');
  assert.is(statusText(Status.AuthError), 'Auth failure.');
  assert.is(statusText(Status.UnknownCommand), 'Unknown command');
  assert.is(statusText(Status.OutOfMemory), 'Out of memory');
  const custom = splitResponses(errorPacket(Opcode.Increment, Status.OutOfMemory, 7, 'Out of memory incrementing value')).packets[0]!;
  assert.is(custom.value.toString(), 'Out of memory incrementing value');
});

test('a get reply: flags extras, key, value, CAS; stats: key and value, empty terminator', () => {
  const p = responsePacket(Opcode.GetK, Status.Success, 9, 77n, Buffer.from('fffffffe', 'hex'), Buffer.from('k'), Buffer.from('vv'));
  assert.is(p.toString('hex'), '810c000104000000000000070000000900000000000000' + '4d' + 'fffffffe' + '6b' + '7676');
  const s = splitResponses(Buffer.concat([statPacket(5, 'pid', '123'), statPacket(5, '', '')])).packets;
  assert.is(s.length, 2);
  assert.equal([s[0]!.key.toString(), s[0]!.value.toString(), s[0]!.opaque, s[0]!.opcode], ['pid', '123', 5, 0x10]);
  assert.is(s[1]!.raw.length, 24);
  assert.is(counterValue(258n).toString('hex'), '0000000000000102');
});

test.run();
