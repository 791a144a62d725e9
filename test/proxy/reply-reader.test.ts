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

const META_STREAM = 'HD O1\r\nVA 3 f0 kfoo\r\nEND\r\nEN\r\nMN\r\nVA 0\r\n\r\nMN\r\nNF O9\r\nCLIENT_ERROR bad command line format\r\nME k exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\nNS\r\n';
const META_SHAPES = [ReplyShape.Meta, ReplyShape.Meta, ReplyShape.Meta, ReplyShape.MetaFenced, ReplyShape.MetaFenced, ReplyShape.Meta, ReplyShape.Meta, ReplyShape.Meta, ReplyShape.Meta];
// A fenced reply comes without the MN of the proxy's own mn (empty when the node stayed quiet).
const META_EXPECTED = ['HD O1\r\n', 'VA 3 f0 kfoo\r\nEND\r\n', 'EN\r\n', '', 'VA 0\r\n\r\n', 'NF O9\r\n', 'CLIENT_ERROR bad command line format\r\n', 'ME k exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\n', 'NS\r\n'];

test('meta replies split anywhere come out whole and in order, a fenced one without its MN', () => {
  const all = Buffer.from(META_STREAM, 'latin1');
  assert.equal(readAll([all], META_SHAPES), META_EXPECTED);
  for (let cut = 1; cut < all.length; cut++) {
    assert.equal(readAll([all.subarray(0, cut), all.subarray(cut)], META_SHAPES), META_EXPECTED, `cut at ${cut}`);
  }
});

test('a reply that is not a meta reply, or a fenced one without its MN, is out of step', () => {
  for (const reply of ['STORED\r\n', 'VALUE k 0 1\r\nx\r\nEND\r\n', 'END\r\n', 'VA x\r\n', 'VA 99999999999\r\n', 'HDX\r\n', 'MN\r\n']) {
    assert.throws(() => readAll([Buffer.from(reply)], [ReplyShape.Meta]), (e: unknown) => e instanceof ReplyFormatError, reply);
  }
  for (const reply of ['HD\r\nHD\r\n', 'VA 1\r\nx\r\nEN\r\n', 'STORED\r\nMN\r\n']) {
    assert.throws(() => readAll([Buffer.from(reply)], [ReplyShape.MetaFenced]), (e: unknown) => e instanceof ReplyFormatError, reply);
  }
});

test.run();
