import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { passwordFile, startMemcachedAsciiAuth } from '../helpers/auth-servers';
import { exchange } from '../helpers/binary-packets';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';

/**
 * -Y: memcached's text-protocol authentication (1.5.15+; proto_text.c's
 * try_read_command_asciiauth), the node and memcached 1.6.18 started with the same file; every
 * exchange must be the same bytes. The first command must be a `set` whose data is
 * "user password"; before it, each line is answered CLIENT_ERROR unauthenticated, and (as
 * memcached writes them all into one response object) only the last of a read's replies is
 * sent. A failure is answered after 500 ms on the node, so a failure here ends its write.
 */
const test = suite(`-Y text authentication [${ENGINE}]`);
const FILE = passwordFile([['alice', 'secret'], ['bob', 'pw:with:colons'], ['carol', 'two words']]);
let node: RunningServer;
let oracle: RunningServer;

test.before(async () => {
  [node, oracle] = await Promise.all([startNode(['-Y', FILE]), startMemcachedAsciiAuth(FILE)]);
});
test.after(async () => {
  await Promise.all([node.stop(), oracle.stop()]);
});

interface Case {
  name: string;
  chunks: string[];
  expect: string;
  closes?: boolean;
}

const login = (user: string, pass: string, key = 'auth'): string => `set ${key} 0 0 ${user.length + 1 + pass.length}\r\n${user} ${pass}\r\n`;

const cases: Case[] = [
  { name: 'any command before authentication is refused', chunks: ['get a\r\n', 'version\r\n', 'stats\r\n'], expect: 'CLIENT_ERROR unauthenticated\r\n'.repeat(3) },
  { name: 'a good login, then the text protocol', chunks: [login('alice', 'secret') + 'set ya:1 0 0 2\r\nhi\r\nget ya:1\r\n'], expect: 'STORED\r\nSTORED\r\nVALUE ya:1 0 2\r\nhi\r\nEND\r\n' },
  { name: 'any key, flags and exptime; noreply is not honoured', chunks: [`set whatever 5 100 12 noreply\r\nalice secret\r\n`], expect: 'STORED\r\n' },
  { name: 'a password holding colons', chunks: [login('bob', 'pw:with:colons')], expect: 'STORED\r\n' },
  { name: 'only the first two words of the data count', chunks: [login('alice', 'secret extra')], expect: 'STORED\r\n' },
  { name: 'a password with a space cannot be given', chunks: [login('carol', 'two words')], expect: 'CLIENT_ERROR authentication failure\r\n' },
  { name: 'a wrong password', chunks: [login('alice', 'nope'), 'get a\r\n'], expect: 'CLIENT_ERROR authentication failure\r\nCLIENT_ERROR unauthenticated\r\n' },
  { name: 'a wrong password, then a good one', chunks: [login('alice', 'nope'), login('alice', 'secret')], expect: 'CLIENT_ERROR authentication failure\r\nSTORED\r\n' },
  { name: 'an unknown user', chunks: [login('dave', 'secret')], expect: 'CLIENT_ERROR authentication failure\r\n' },
  { name: 'a single word of data', chunks: ['set a 0 0 5\r\nalice\r\n'], expect: 'CLIENT_ERROR bad authentication token format\r\n' },
  { name: 'data not ending in \\r\\n', chunks: ['set a 0 0 5\r\nalicexx', 'get b\r\n'], expect: 'CLIENT_ERROR bad command line termination\r\nCLIENT_ERROR unauthenticated\r\n' },
  { name: 'a set with a bad length is refused', chunks: ['set a 0 0 x\r\n', 'set a 0 0\r\n', 'add a 0 0 12\r\nalice secret\r\n'], expect: 'CLIENT_ERROR unauthenticated\r\n'.repeat(3) },
  { name: "only the last unauthenticated reply of a read is sent", chunks: ['get a\r\nget b\r\nfoo\r\n'], expect: 'CLIENT_ERROR unauthenticated\r\n' },
  { name: 'a login replaces the unauthenticated replies before it in its read', chunks: ['get a\r\n' + login('alice', 'secret') + 'get none\r\n'], expect: 'STORED\r\nEND\r\n' },
  { name: 'the 21st line of a read is a transmit point', chunks: ['get a\r\n'.repeat(25)], expect: 'CLIENT_ERROR unauthenticated\r\n'.repeat(2) },
  { name: 'a binary packet is text here', chunks: [Buffer.from([0x80, 0x0a, ...Array(22).fill(0)]).toString('latin1')], expect: 'CLIENT_ERROR unauthenticated\r\n' },
  { name: 'a line without a newline past 2048 bytes closes', chunks: ['x'.repeat(3000)], expect: '', closes: true },
];

for (const c of cases) {
  test(c.name, async () => {
    const [a, b] = await Promise.all([oracle, node].map((s) => exchange(s.port, c.chunks.map((x) => Buffer.from(x, 'latin1')), 800, 650)));
    assert.is(a!.bytes.toString('latin1'), c.expect, 'memcached');
    assert.is(a!.closed, c.closes ?? false, 'memcached closes');
    assert.is(b!.bytes.toString('latin1'), a!.bytes.toString('latin1'), 'the node');
    assert.is(b!.closed, a!.closed, 'the node closes as memcached does');
  });
}

test('auth_cmds and auth_errors', async () => {
  const counts = await Promise.all([oracle, node].map(async (s) => {
    await exchange(s.port, [Buffer.from(login('alice', 'bad'))], 800);
    const r = (await exchange(s.port, Buffer.from(login('alice', 'secret') + 'stats\r\n'))).bytes.toString('latin1');
    return [/STAT auth_cmds (\d+)/.exec(r)?.[1], /STAT auth_errors (\d+)/.exec(r)?.[1]];
  }));
  assert.equal(counts[1], counts[0]);
});

test('stats settings shows the text protocol and names the -Y file, as memcached does', async () => {
  const lines = await Promise.all([oracle, node].map(async (s) => {
    const r = (await exchange(s.port, Buffer.from(login('alice', 'secret') + 'stats settings\r\n'))).bytes.toString('latin1');
    return r.split('\r\n').filter((l) => /^STAT (binding_protocol|auth_enabled_)/.test(l));
  }));
  assert.equal(lines[1], ['STAT binding_protocol ascii', 'STAT auth_enabled_sasl no', `STAT auth_enabled_ascii ${FILE}`]);
  assert.equal(lines[1], lines[0]);
});

test('a failed login is answered after 500 ms', async () => {
  const started = Date.now();
  const r = await exchange(node.port, Buffer.from(login('alice', 'bad')), 800);
  assert.is(r.bytes.toString(), 'CLIENT_ERROR authentication failure\r\n');
  assert.ok(Date.now() - started >= 500, `${Date.now() - started} ms`);
});

test.run();
