import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readPasswordFile } from '../../src/config/password-file';
import { parseServeArgs } from '../../src/config/serve-args';
import type { Settings } from '../../src/config/settings';

/** -S, -Y, -B and the password files, as memcached reads them. */
const test = suite('auth flags and password files');
const dir = mkdtempSync(join(tmpdir(), 'mcha-auth-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, 'latin1');
  return path;
}

function settings(argv: string[], env: NodeJS.ProcessEnv = {}): Settings {
  const cmd = parseServeArgs(argv, env);
  if (cmd.kind !== 'run') throw new Error('not a run');
  return cmd.settings;
}

test('-Y: the password runs to the end of the line, colons included; CRLF lines read', () => {
  const path = file('auth', 'alice:se:cret\r\nbob:\nwho:x\xff\n');
  assert.equal(readPasswordFile(path, 'ascii'), [['alice', 'se:cret'], ['bob', ''], ['who', 'x\xff']]);
});

test('-Y: a line without a colon is malformed, as memcached refuses it', () => {
  const path = file('bad', 'alice:one\nnocolon\n');
  assert.throws(() => readPasswordFile(path, 'ascii'), /line 2: malformed entry/);
});

test('SASL PWDB: the password ends at the next colon, lines without one are skipped', () => {
  const path = file('pwdb', 'alice:secret:extra:fields\ncomment line\nbob:pw\n');
  assert.equal(readPasswordFile(path, 'sasl'), [['alice', 'secret'], ['bob', 'pw']]);
});

test('a missing file or an over-long line is an error that names no password', () => {
  assert.throws(() => readPasswordFile(join(dir, 'missing'), 'ascii'), /cannot read .*missing: ENOENT/);
  const path = file('long', `u:${'p'.repeat(300)}\n`);
  assert.throws(() => readPasswordFile(path, 'sasl'), (err: Error) => /longer than 256 bytes/.test(err.message) && !err.message.includes('ppp'));
});

test('-S serves only binary, takes its file from MEMCACHED_SASL_PWDB or --sasl-pwdb', () => {
  const s = settings(['-S'], { MEMCACHED_SASL_PWDB: '/etc/pw' });
  assert.equal([s.sasl, s.saslPwdb, s.protocol], [true, '/etc/pw', 'binary']);
  assert.is(settings(['-S', '--sasl-pwdb', '/x'], { MEMCACHED_SASL_PWDB: '/etc/pw' }).saslPwdb, '/x');
  assert.throws(() => settings(['-S']), /-S needs a password file/);
  assert.throws(() => settings(['-S', '-B', 'ascii'], { MEMCACHED_SASL_PWDB: '/p' }), /You cannot allow the ASCII protocol while using SASL/);
  assert.throws(() => settings(['--sasl-pwdb', '/x']), /--sasl-pwdb needs -S/);
});

test('-Y serves only text; -B binary with it is refused as memcached refuses it; -S with -Y is refused', () => {
  const s = settings(['-Y', '/etc/auth']);
  assert.equal([s.asciiAuth, s.authFile, s.protocol], [true, '/etc/auth', 'ascii']);
  assert.throws(() => settings(['-Y', '/a', '-B', 'binary']), /You cannot allow the BINARY protocol while using ascii authentication tokens/);
  assert.throws(() => settings(['-Y', '/a', '-S'], { MEMCACHED_SASL_PWDB: '/p' }), /-S and -Y cannot be used together/);
});

test('-B takes memcached\'s three values', () => {
  assert.is(settings([]).protocol, 'auto');
  assert.is(settings(['-B', 'binary']).protocol, 'binary');
  assert.is(settings(['--protocol=ascii']).protocol, 'ascii');
  assert.throws(() => settings(['-B', 'http']), /Invalid value for binding protocol: http -- should be one of auto, binary, or ascii/);
});

test.run();
