import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from './client';
import { ENGINE, startMemcached, startNode, type RunningServer } from './servers';

/**
 * One protocol exchange: bytes sent on a fresh connection after `flush_all`, and the exact
 * bytes expected back. `cas` in the expectation stands for any CAS unique.
 */
export interface ProtocolCase {
  name: string;
  send: string;
  expect: string | RegExp;
  /** Expect the server to close the connection after replying. */
  closes?: boolean;
  /**
   * The case follows a memcached release newer than the 1.6.18 oracle (the expectation is
   * written from that release's doc/protocol.txt, named here, e.g. '1.6.45'): it runs against
   * the node only, since 1.6.18 rejects or ignores what it tests.
   */
  nodeOnly?: string;
}

/**
 * A uvu suite that runs every case against the node under test AND the real memcached, so
 * each expectation is also checked against the oracle it claims to describe.
 */
export function protocolSuite(title: string, cases: readonly ProtocolCase[], serverArgs: readonly string[] = []): void {
  const test = suite(`${title} [${ENGINE}]`);
  const servers: Array<[string, RunningServer]> = [];
  test.before(async () => {
    servers.push(['node', await startNode(serverArgs)]);
    servers.push(['memcached', await startMemcached(serverArgs)]);
  });
  test.after(async () => {
    for (const [, s] of servers) await s.stop();
  });
  for (const c of cases) {
    test(c.name, async () => {
      for (const [who, server] of servers) {
        if (c.nodeOnly && who !== 'node') continue;
        const got = await runCase(server.port, c);
        if (typeof c.expect === 'string') assert.is(got, c.expect, `${who}: ${c.name}`);
        else assert.match(got, c.expect, `${who}: ${c.name}`);
      }
    });
  }
  test.run();
}

async function runCase(port: number, c: ProtocolCase): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    const ok = await client.call('flush_all\r\n');
    if (ok !== 'OK\r\n') throw new Error(`flush_all answered ${JSON.stringify(ok)}`);
    client.send(c.send);
    if (c.closes) return await client.readToClose();
    if (typeof c.expect === 'string') {
      const got = await client.readBytes(Buffer.byteLength(c.expect, 'latin1'));
      const extra = (await client.silentFor(30)) ? '' : ' (and more bytes after it)';
      return got + extra;
    }
    await client.silentFor(150);
    return (await client.readUntil('anything', (b) => b.length)).toString('latin1');
  } finally {
    client.close();
  }
}
