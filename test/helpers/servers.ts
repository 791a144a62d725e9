import net from 'node:net';
import { join } from 'node:path';
import { RawClient } from './client';
import { spawnTracked, stopProcess, waitFor, type Spawned } from './processes';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'memcache-ha-native.js');

/** The engine under test: TEST_ENGINE=ts|native (default ts). Every behavioural test reads it. */
export const ENGINE = process.env.TEST_ENGINE ?? 'ts';
/**
 * TEST_THREADS=N runs every node under test with `-t N` (a test's own -t comes later and wins);
 * unset, nodes get serve's default, 4 worker threads on the native engine. .ci/run covers both
 * the threaded path and -t 1 (Node's own loop).
 */
export const THREAD_ARGS: readonly string[] = process.env.TEST_THREADS ? ['-t', process.env.TEST_THREADS] : [];

export interface RunningServer {
  port: number;
  proc: Spawned;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A sanitizer build of the addon (see .ci/run) needs its runtime preloaded into the node
 * processes under test, and only into them: SANITIZER_PRELOAD names it.
 */
export const SANITIZER_ENV: NodeJS.ProcessEnv = process.env.SANITIZER_PRELOAD ? { ...process.env, LD_PRELOAD: process.env.SANITIZER_PRELOAD } : process.env;
const SANITIZER_REPORT = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|runtime error:/;

/** Fails when a node printed a sanitizer report. */
export function assertNoSanitizerReport(proc: Spawned): void {
  const m = SANITIZER_REPORT.exec(proc.stderr());
  if (m) throw new Error(`sanitizer report from pid ${proc.child.pid}:\n${proc.stderr().slice(Math.max(0, m.index - 200), m.index + 4000)}`);
}

/** Starts `memcache-ha-native serve` on a free port with the engine under test. */
export function startNode(args: readonly string[] = [], engine = ENGINE): Promise<RunningServer> {
  return startCommand('serve', ['--engine', engine, ...THREAD_ARGS, ...args]);
}

/** Starts `memcache-ha-native <command> -p 0 ...` and waits for its listening line (sanitizer-checked on stop). */
export async function startCommand(command: 'serve' | 'proxy', args: readonly string[]): Promise<RunningServer> {
  const proc = spawnTracked(process.execPath, [BIN, command, '-p', '0', ...args], SANITIZER_ENV);
  const port = await waitListening(proc, 10_000);
  return {
    port,
    proc,
    stop: async (signal) => {
      await stopProcess(proc, signal);
      assertNoSanitizerReport(proc);
    },
  };
}

/** Waits for a node's start-up line (`memcache-ha-native: listening on HOST:PORT ...`); returns the port. */
export function waitListening(proc: Spawned, ms: number): Promise<number> {
  return waitFor('the node to print its listening line', ms, () => {
    const m = /listening on \S+:(\d+)/.exec(proc.stdout());
    if (m) return Number(m[1]);
    if (proc.child.exitCode !== null) throw new Error(`node exited with ${proc.child.exitCode}: ${proc.stderr()}`);
    return undefined;
  });
}

/** Whether a server could listen on 127.0.0.1:port right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// scripts/test.js gives each test file it runs side by side its own block of ports
// (TEST_PORT_BASE, TEST_PORT_COUNT): ports are handed out from it in turn, so two files never
// pick the same port between one's check and its server's bind.
const PORT_BASE = Number(process.env.TEST_PORT_BASE || 0);
const PORT_COUNT = Number(process.env.TEST_PORT_COUNT || 0);
let portTurn = 0;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  if (PORT_BASE > 0 && PORT_COUNT > 0) {
    for (let tries = 0; tries < PORT_COUNT; tries++) {
      const port = PORT_BASE + (portTurn++ % PORT_COUNT);
      if (await canListen(port)) return port;
    }
    throw new Error(`no free port in ${PORT_BASE}-${PORT_BASE + PORT_COUNT - 1}`);
  }
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Answers `version` within the deadline. */
export async function waitUntilServing(port: number, ms = 10_000): Promise<void> {
  await waitFor(`port ${port} to answer "version"`, ms, async () => {
    try {
      const c = await RawClient.connect(port, '127.0.0.1', 1000);
      try {
        const r = await c.call('version\r\n', '\r\n', 1000);
        return r.startsWith('VERSION ') ? true : undefined;
      } finally {
        c.close();
      }
    } catch {
      return undefined;
    }
  });
}

/**
 * memcached's LRU maintainer and crawler threads briefly hold item references, and an incr
 * rewrites a number in place (space-padded) only when nobody else holds the item: without
 * those threads the oracle answers the same way on every run. Protocol semantics are unchanged.
 */
const DETERMINISTIC = ['-o', 'no_lru_crawler,no_lru_maintainer'];

/** The real memcached (Debian package), the oracle of the differential and protocol tests. */
export async function startMemcached(args: readonly string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnTracked('memcached', ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-u', 'root', ...DETERMINISTIC, ...args]);
  await waitUntilServing(port);
  return { port, proc, stop: (signal) => stopProcess(proc, signal) };
}
