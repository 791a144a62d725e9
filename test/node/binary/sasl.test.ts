import { writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode, Status } from '../../../src/protocol/binary';
import { passwordFile, startMemcachedSasl } from '../../helpers/auth-servers';
import { CasNormaliser, describe, exchange, request, splitResponses, storeExtras } from '../../helpers/binary-packets';
import { waitFor } from '../../helpers/processes';
import { ENGINE, startNode, type RunningServer } from '../../helpers/servers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const memjs = require('memjs') as { Client: { create(s: string, o: Record<string, unknown>): MemjsClient } };

interface MemjsClient {
  get(key: string): Promise<{ value: Buffer | null }>;
  set(key: string, value: string): Promise<boolean>;
  close(): void;
}

/**
 * -S: SASL PLAIN over the binary protocol, the node started with a password file and
 * memcached 1.6.18 with the same users (see auth-servers.ts); every exchange must be the same
 * bytes on both, and memjs must log in with a good password and fail with a wrong one alike.
 * A failure is answered after 500 ms on the node (memcached answers at once): the exchanges
 * wait long enough to see it.
 */
const test = suite(`SASL over binary [${ENGINE}]`);
const USERS = [['alice', 'secret'], ['bob', 'pw2']] as const;
let node: RunningServer;
let oracle: RunningServer;
const norms = [new CasNormaliser(), new CasNormaliser()];

test.before(async () => {
  [node, oracle] = await Promise.all([startNode(['-S', '--sasl-pwdb', passwordFile(USERS)]), startMemcachedSasl(USERS)]);
});
test.after(async () => {
  await Promise.all([node.stop(), oracle.stop()]);
});

const auth = (value: string, mech = 'PLAIN', opcode: number = Opcode.SaslAuth, opaque = 0): Buffer => request({ opcode, key: mech, value, opaque });
const noop = (opaque = 0): Buffer => request({ opcode: Opcode.Noop, opaque });
const cat = (...b: Buffer[]): Buffer => Buffer.concat(b);
const GOOD = '\0alice\0secret';

interface Case {
  name: string;
  chunks: Buffer[];
  statuses: number[];
  closes?: boolean;
}

const cases: Case[] = [
  {
    name: 'unauthenticated: list mechs (PLAIN) and version pass, anything else is Auth failure and closes',
    chunks: [cat(request({ opcode: Opcode.SaslListMechs, opaque: 1 }), request({ opcode: Opcode.Version }), noop(2), noop(3))],
    statuses: [0, 0, Status.AuthError], closes: true,
  },
  { name: 'a quiet get before authentication: Auth failure, closed', chunks: [request({ opcode: Opcode.GetQ, key: 'a' })], statuses: [Status.AuthError], closes: true },
  { name: 'an unknown opcode before authentication: Auth failure, closed', chunks: [request({ opcode: 0x55 })], statuses: [Status.AuthError], closes: true },
  {
    name: 'PLAIN with a good password, then commands',
    chunks: [cat(auth(GOOD, 'PLAIN', Opcode.SaslAuth, 5), request({ opcode: Opcode.Get, key: 'sa:1' }), request({ opcode: Opcode.Set, key: 'sa:1', value: 'v', extras: storeExtras(0, 0) }),
      request({ opcode: Opcode.GetK, key: 'sa:1' }), noop())],
    statuses: [0, Status.KeyNotFound, 0, 0, 0],
  },
  { name: 'PLAIN without data continues; the step carries the credentials', chunks: [cat(auth(''), auth(GOOD, 'PLAIN', Opcode.SaslStep), noop())], statuses: [Status.AuthContinue, 0, 0] },
  { name: 'a wrong password: Auth failure, the connection stays unauthenticated', chunks: [auth('\0alice\0wrong'), noop()], statuses: [Status.AuthError, Status.AuthError], closes: true },
  { name: 'an unknown user', chunks: [auth('\0carol\0secret'), noop()], statuses: [Status.AuthError, Status.AuthError], closes: true },
  { name: "another user's password", chunks: [auth('\0bob\0secret'), auth('\0bob\0pw2'), noop()], statuses: [Status.AuthError, 0, 0] },
  { name: 'mechanism names are case-blind; an authzid equal to the user passes', chunks: [cat(auth('alice\0alice\0secret', 'plain'), noop())], statuses: [0, 0] },
  { name: 'an authzid of another user fails', chunks: [auth('bob\0alice\0secret'), noop()], statuses: [Status.AuthError, Status.AuthError], closes: true },
  { name: 'PLAIN data without its second NUL fails', chunks: [auth('\0alice'), noop()], statuses: [Status.AuthError, Status.AuthError], closes: true },
  { name: 'an unknown mechanism fails', chunks: [auth(GOOD, 'CRAM-MD5'), noop()], statuses: [Status.AuthError, Status.AuthError], closes: true },
  { name: 'a step without a start fails', chunks: [auth(GOOD, 'PLAIN', Opcode.SaslStep), noop()], statuses: [Status.AuthError, Status.AuthError], closes: true },
  { name: 'a step after a completed PLAIN fails and unauthenticates', chunks: [cat(auth(GOOD), auth(GOOD, 'PLAIN', Opcode.SaslStep)), noop()], statuses: [0, Status.AuthError, Status.AuthError], closes: true },
  { name: 'a mechanism name over 32 bytes: Invalid arguments, its data swallowed', chunks: [cat(auth('abc', 'P'.repeat(33)), auth(GOOD), noop())], statuses: [Status.InvalidArguments, 0, 0] },
  {
    name: 'listing the mechanisms again unauthenticates', chunks: [cat(auth(GOOD), request({ opcode: Opcode.SaslListMechs }), noop())],
    statuses: [0, 0, Status.AuthError], closes: true,
  },
  { name: 'a failed login after a good one unauthenticates', chunks: [cat(auth(GOOD), noop()), auth('\0alice\0nope'), noop()], statuses: [0, 0, Status.AuthError, Status.AuthError], closes: true },
  { name: 'a text line is a bad magic: closed without a reply', chunks: [Buffer.from('get aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n')], statuses: [], closes: true },
];

for (const c of cases) {
  test(c.name, async () => {
    const [a, b] = await Promise.all([oracle, node].map(async (s, i) => {
      const r = await exchange(s.port, c.chunks, 800, 650);
      return { ...r, bytes: norms[i]!.normalise(r.bytes) };
    }));
    assert.equal(splitResponses(a!.bytes).packets.map((p) => p.status), c.statuses, `memcached:\n${describe(a!.bytes)}`);
    assert.is(a!.closed, c.closes ?? false, 'memcached closes');
    assert.ok(b!.bytes.equals(a!.bytes), `memcached:\n${describe(a!.bytes)}\nnode:\n${describe(b!.bytes)}`);
    assert.is(b!.closed, a!.closed, 'the node closes as memcached does');
  });
}

test('auth_cmds and auth_errors count logins and failed ones, as memcached counts them', async () => {
  const counts = await Promise.all([oracle, node].map(async (s) => {
    await exchange(s.port, [auth('\0alice\0bad'), auth('\0alice\0worse')], 800, 650);
    const r = await exchange(s.port, cat(auth(GOOD), request({ opcode: Opcode.Stat }), noop()));
    const stats = Object.fromEntries(splitResponses(r.bytes).packets.filter((p) => p.opcode === Opcode.Stat).map((p) => [p.key.toString(), p.value.toString()]));
    return [stats.auth_cmds, stats.auth_errors];
  }));
  assert.equal(counts[1], counts[0]);
  assert.ok(Number(counts[0]![1]) >= 2);
});

test('stat settings shows the binary protocol and SASL on, as memcached does', async () => {
  const lines = await Promise.all([oracle, node].map(async (s) => {
    const r = await exchange(s.port, cat(auth(GOOD), request({ opcode: Opcode.Stat, key: 'settings' }), noop()));
    return splitResponses(r.bytes).packets.filter((p) => /^(binding_protocol|auth_enabled_)/.test(p.key.toString())).map((p) => `${p.key} ${p.value}`);
  }));
  assert.equal(lines[1], ['binding_protocol binary', 'auth_enabled_sasl yes', 'auth_enabled_ascii no']);
  assert.equal(lines[1], lines[0]);
});

test('a failed login is answered after 500 ms, and nothing on the connection is read meanwhile', async () => {
  const started = Date.now();
  const r = await exchange(node.port, cat(auth('\0alice\0bad'), request({ opcode: Opcode.Version })), 800);
  const packets = splitResponses(r.bytes).packets;
  assert.equal(packets.map((p) => p.status), [Status.AuthError, 0]);
  assert.ok(Date.now() - started >= 500, `${Date.now() - started} ms`);
});

async function memjsOutcome(port: number, password: string): Promise<unknown> {
  const c = memjs.Client.create(`alice:${password}@127.0.0.1:${port}`, { retries: 0, timeout: 2, logger: { log: () => undefined } });
  try {
    await c.set('sa:memjs', 'logged in');
    return (await c.get('sa:memjs')).value?.toString();
  } catch (err) {
    return `error: ${(err as Error).message}`;
  } finally {
    c.close();
  }
}

test('memjs logs in with a good password and fails with a wrong one, as against memcached', async () => {
  for (const password of ['secret', 'wrong']) {
    const [ours, theirs] = await Promise.all([memjsOutcome(node.port, password), memjsOutcome(oracle.port, password)]);
    assert.equal(ours, theirs, `password ${password}`);
  }
  assert.is(await memjsOutcome(node.port, 'secret'), 'logged in');
  assert.match(String(await memjsOutcome(node.port, 'wrong')), /^error: /);
});

test('SIGHUP re-reads the password file: new passwords for new logins, logged-in connections stay', async () => {
  const file = passwordFile([['alice', 'old']]);
  const n = await startNode(['-S', '--sasl-pwdb', file, '-v']);
  try {
    const loginWith = async (pass: string): Promise<number[]> =>
      splitResponses((await exchange(n.port, cat(auth(`\0alice\0${pass}`), noop()), 800)).bytes).packets.map((p) => p.status);
    assert.equal(await loginWith('old'), [0, 0]);
    writeFileSync(file, 'alice:new\n');
    process.kill(n.proc.child.pid!, 'SIGHUP');
    await waitFor('the reload', 5000, () => (/re-read \(SIGHUP\)/.test(n.proc.stderr()) ? true : undefined));
    assert.equal(await loginWith('new'), [0, 0]);
    assert.equal(await loginWith('old'), [Status.AuthError, Status.AuthError]);
  } finally {
    await n.stop();
  }
});

test.run();
