import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopProcess, waitFor } from './processes';
import { freePort, type RunningServer } from './servers';

/**
 * memcached with authentication, for the auth tests' oracle. Debian's memcached is built with
 * SASL but not with MEMCACHED_SASL_PWDB: its SASL users live in a Cyrus sasldb, made here with
 * saslpasswd2 (Debian's sasl2-bin) from the same users the node's password file holds, and
 * `mech_list: plain` so it offers what the node offers. -Y reads the same file format as the
 * node.
 */
export type Users = ReadonlyArray<readonly [user: string, password: string]>;

/** A `user:password` file, as the node's -Y and --sasl-pwdb read it. */
export function passwordFile(users: Users): string {
  const dir = mkdtempSync(join(tmpdir(), 'mhn-auth-'));
  const path = join(dir, 'users');
  writeFileSync(path, users.map(([u, p]) => `${u}:${p}\n`).join(''));
  return path;
}

/** `memcached -S` whose SASL PLAIN accepts `users`. */
export async function startMemcachedSasl(users: Users): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mhn-sasl-'));
  const db = join(dir, 'sasldb');
  for (const [user, password] of users) {
    try {
      execFileSync('saslpasswd2', ['-p', '-a', 'memcached', '-c', '-f', db, user], { input: password, stdio: ['pipe', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`saslpasswd2 could not run (apt-get install sasl2-bin): ${(err as Error).message}`);
    }
  }
  writeFileSync(join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`);
  return startAuthMemcached(['-S'], { ...process.env, SASL_CONF_PATH: dir });
}

/** `memcached -Y file`. */
export function startMemcachedAsciiAuth(file: string): Promise<RunningServer> {
  return startAuthMemcached(['-Y', file], process.env);
}

/** memcached answers nothing before authentication, so it is ready once it accepts connections. */
async function startAuthMemcached(args: string[], env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnTracked('memcached', ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-u', 'root', '-o', 'no_lru_crawler,no_lru_maintainer', ...args], env);
  await waitFor(`memcached ${args.join(' ')} to listen on ${port}`, 10_000, () => new Promise<true | undefined>((resolve) => {
    if (proc.child.exitCode !== null) throw new Error(`memcached exited with ${proc.child.exitCode}: ${proc.stderr()}`);
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(undefined));
  }));
  return { port, proc, stop: (signal) => stopProcess(proc, signal) };
}
