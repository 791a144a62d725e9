import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../helpers/servers';

/** Server flags that change protocol behaviour, each compared with memcached given the same flag. */
const test = suite(`behaviour flags [${ENGINE}]`);

async function both(args: string[], send: string, terminator: string): Promise<[string, string]> {
  const servers: RunningServer[] = [await startNode(args), await startMemcached(args)];
  try {
    const out: string[] = [];
    for (const s of servers) {
      const c = await RawClient.connect(s.port);
      out.push(await c.call(send, terminator));
      c.close();
    }
    return out as [string, string];
  } finally {
    for (const s of servers) await s.stop();
  }
}

test('stats settings names the protocol and the authentication as memcached does (-B)', async () => {
  const pick = (out: string) => out.split('\r\n').filter((l) => /^STAT (binding_protocol|auth_enabled_)/.test(l)).join('\n');
  const [ours, mc] = await both([], 'stats settings\r\n', 'END\r\n');
  assert.is(pick(ours), 'STAT binding_protocol auto-negotiate\nSTAT auth_enabled_sasl no\nSTAT auth_enabled_ascii no');
  assert.is(pick(mc), pick(ours));
  const [ascii, mcAscii] = await both(['-B', 'ascii'], 'stats settings\r\n', 'END\r\n');
  assert.is(pick(ascii), 'STAT binding_protocol ascii\nSTAT auth_enabled_sasl no\nSTAT auth_enabled_ascii no');
  assert.is(pick(mcAscii), pick(ascii));
});

test('-F refuses flush_all', async () => {
  const [ours, mc] = await both(['-F'], 'flush_all\r\nflush_all x\r\nflush_all noreply\r\nmn\r\n', 'MN\r\n');
  assert.is(ours, 'CLIENT_ERROR flush_all not allowed\r\nCLIENT_ERROR flush_all not allowed\r\nMN\r\n');
  assert.is(mc, ours);
});

test('-C disables CAS: gets shows 0 and cas never matches', async () => {
  const [ours, mc] = await both(['-C'], 'set a 0 0 1\r\nx\r\ngets a\r\ncas a 0 0 1 0\r\ny\r\ncas b 0 0 1 0\r\ny\r\nmn\r\n', 'MN\r\n');
  assert.is(ours, 'STORED\r\nVALUE a 0 1 0\r\nx\r\nEND\r\nEXISTS\r\nNOT_FOUND\r\nMN\r\n');
  assert.is(mc, ours);
});

test('-M answers out of memory instead of evicting', async () => {
  const value = 'v'.repeat(100000);
  let send = '';
  for (let i = 0; i < 40; i++) send += `set m${i} 0 0 100000\r\n${value}\r\n`;
  const servers = await startNode(['-M', '-m', '2']);
  try {
    const c = await RawClient.connect(servers.port);
    const reply = await c.call(send + 'get m0\r\n', 'END\r\n');
    assert.ok(reply.includes('SERVER_ERROR out of memory storing object\r\n'), 'refuses when full');
    assert.ok(reply.endsWith(`VALUE m0 0 100000\r\n${value}\r\nEND\r\n`), 'keeps what it stored');
    c.close();
  } finally {
    await servers.stop();
  }
});

test('-I raises the item size limit (same boundary as memcached)', async () => {
  const n = 2 * 1024 * 1024 - 60;
  const send = `set a 0 0 ${n}\r\n${'z'.repeat(n)}\r\nset b 0 0 ${n + 10}\r\n${'z'.repeat(n + 10)}\r\nmn\r\n`;
  const [ours, mc] = await both(['-I', '2m'], send, 'MN\r\n');
  assert.is(ours, 'STORED\r\nSERVER_ERROR object too large for cache\r\nMN\r\n');
  assert.is(mc, ours);
});

test('-A enables shutdown, which stops the process', async () => {
  const server = await startNode(['-A']);
  const c = await RawClient.connect(server.port);
  c.send('shutdown bogus\r\n');
  assert.is(await c.readUntilSuffix('\r\n'), 'CLIENT_ERROR invalid shutdown mode\r\n');
  c.send('shutdown\r\n');
  await c.readToClose();
  const exit = await server.proc.exited;
  assert.is(exit.code, 0);
});

test.run();
