import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplyFormatError, ReplyReader, ReplyShape } from '../../src/proxy/reply-reader';

/**
 * The backend reply framer on its own: replies split at every byte boundary come out whole, and
 * a reply that cannot answer the request it is read for is refused (the connection is then
 * dropped), so a proxy and a node that disagree about a request never hand one client's reply
 * to another. The end-to-end case (a node answering "delete noreply") is in the fuzz test.
 */
const test = suite('proxy reply reader');

function readAll(chunks: Buffer[], shapes: ReplyShape[]): string[] {
  const r = new ReplyReader(1024 * 1024);
  const out: string[] = [];
  let i = 0;
  for (const c of chunks) {
    r.feed(c);
    for (let got = r.next(shapes[i]!); got !== null; got = i < shapes.length ? r.next(shapes[i]!) : null) {
      out.push(got.toString('latin1'));
      i++;
    }
    r.keepRest();
  }
  return out;
}

const STREAM = 'STORED\r\nVALUE a 0 3\r\nEND\r\nEND\r\nSTAT pid 1\r\nSTAT x y\r\nEND\r\nSERVER_ERROR out of memory\r\nVALUE b 5 2 77\r\nhi\r\nEND\r\n12\r\n';
const SHAPES = [ReplyShape.Line, ReplyShape.Values, ReplyShape.Stats, ReplyShape.Values, ReplyShape.Values, ReplyShape.Line];
const EXPECTED = ['STORED\r\n', 'VALUE a 0 3\r\nEND\r\nEND\r\n', 'STAT pid 1\r\nSTAT x y\r\nEND\r\n', 'SERVER_ERROR out of memory\r\n', 'VALUE b 5 2 77\r\nhi\r\nEND\r\n', '12\r\n'];

test('replies split anywhere come out whole and in order', () => {
  // "VALUE a 0 3\r\nEND\r\n" is a value of three bytes that happen to read "END".
  const all = Buffer.from(STREAM, 'latin1');
  assert.equal(readAll([all], SHAPES), EXPECTED);
  for (let cut = 1; cut < all.length; cut++) {
    assert.equal(readAll([all.subarray(0, cut), all.subarray(cut)], SHAPES), EXPECTED, `cut at ${cut}`);
  }
});

test('a multi-line reply where one line is due is out of step', () => {
  for (const reply of ['VALUE k 7 5\r\n', 'STAT pid 1\r\n', 'END\r\n']) {
    assert.throws(() => readAll([Buffer.from(reply)], [ReplyShape.Line]), (e: unknown) => e instanceof ReplyFormatError, reply);
  }
});

test('a stray line inside a get or stats reply is out of step', () => {
  assert.throws(() => readAll([Buffer.from('VALUE k 7 5\r\nhello\r\nSTORED\r\n')], [ReplyShape.Values]), (e: unknown) => e instanceof ReplyFormatError);
  assert.throws(() => readAll([Buffer.from('STORED\r\n')], [ReplyShape.Values]), (e: unknown) => e instanceof ReplyFormatError);
  assert.throws(() => readAll([Buffer.from('STAT a b\r\nDELETED\r\n')], [ReplyShape.Stats]), (e: unknown) => e instanceof ReplyFormatError);
  // A value whose declared length does not match its block: the line after it is not END.
  assert.throws(() => readAll([Buffer.from('VALUE k 0 2\r\nhello\r\nEND\r\n')], [ReplyShape.Values]), (e: unknown) => e instanceof ReplyFormatError);
});

test('error lines end a reply of any shape', () => {
  for (const shape of [ReplyShape.Line, ReplyShape.Values, ReplyShape.Stats]) {
    assert.equal(readAll([Buffer.from('ERROR\r\nCLIENT_ERROR bad data chunk\r\n')], [shape, shape]), ['ERROR\r\n', 'CLIENT_ERROR bad data chunk\r\n']);
  }
});

test.run();
