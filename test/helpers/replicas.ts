import { RawClient } from './client';
import type { Relay } from './relay';
import { spawnTracked, stopProcess, waitFor, type Spawned } from './processes';
import { assertNoSanitizerReport, BIN, ENGINE, freePort, SANITIZER_ENV, THREAD_ARGS, waitListening } from './servers';

/** A node started with -x/-X, and how to start it again with the same command. */
export interface Replica {
  port: number;
  replPort: number;
  args: string[];
  engine: string;
  env: NodeJS.ProcessEnv;
  proc: Spawned;
  /** Log output of every incarnation so far. */
  logs(): string;
}

const earlierLogs = new WeakMap<Replica, string>();

/**
 * Starts `serve -x 127.0.0.1 -X replPort -p port ...` and waits for its listening line, which a
 * replica prints only once it may serve (in sync, or no peer found).
 */
export async function startReplica(opts: {
  replPort: number;
  port?: number;
  args?: string[];
  engine?: string;
  wait?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<Replica> {
  const port = opts.port ?? (await freePort());
  const args = ['-x', '127.0.0.1', '-X', String(opts.replPort), '-p', String(port), '-v', ...(opts.args ?? [])];
  const engine = opts.engine ?? ENGINE;
  const env = { ...SANITIZER_ENV, ...opts.env };
  const r: Replica = { port, replPort: opts.replPort, args, engine, env, proc: spawn(args, engine, env), logs: () => (earlierLogs.get(r) ?? '') + r.proc.stderr() };
  if (opts.wait !== false) await waitServing(r);
  return r;
}

function spawn(args: string[], engine: string, env: NodeJS.ProcessEnv): Spawned {
  return spawnTracked(process.execPath, [BIN, 'serve', '--engine', engine, ...THREAD_ARGS, ...args], env);
}

export async function waitServing(r: Replica, ms = 20_000): Promise<void> {
  await waitListening(r.proc, ms);
}

/** Restarts a killed replica with the same command line. */
export async function restart(r: Replica, wait = true): Promise<void> {
  earlierLogs.set(r, r.logs());
  r.proc = spawn(r.args, r.engine, r.env);
  if (wait) await waitServing(r);
}

export async function kill(r: Replica, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await stopProcess(r.proc, signal);
  if (signal !== 'SIGKILL') assertNoSanitizerReport(r.proc);
}

export async function stopAll(...rs: Replica[]): Promise<void> {
  for (const r of rs) {
    // A test may leave a node stopped (SIGSTOP): it must be able to act on SIGTERM.
    if (r.proc.child.pid !== undefined && r.proc.child.exitCode === null) {
      try {
        process.kill(-r.proc.child.pid, 'SIGCONT');
      } catch {
        // Already gone.
      }
    }
  }
  await Promise.all(rs.map((r) => stopProcess(r.proc)));
  for (const r of rs) assertNoSanitizerReport(r.proc);
}

/** What one test started: stopped after it (`test.after.each(() => bed.teardown())`), also when it failed. */
export class Testbed {
  nodes: Replica[] = [];
  relay: Relay | null = null;

  async teardown(): Promise<void> {
    await stopAll(...this.nodes);
    this.nodes = [];
    await this.relay?.close();
    this.relay = null;
  }
}

export async function command(port: number, text: string, terminator = 'END\r\n', timeoutMs = 5000): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return await c.call(text, terminator, timeoutMs);
  } finally {
    c.close();
  }
}

/** `stats replication` as a map. */
export async function replStats(port: number): Promise<Record<string, string>> {
  const text = await command(port, 'stats replication\r\n');
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) out[m[1]!] = m[2]!;
  return out;
}

/** Waits until both nodes are linked, in sync and have applied everything the other wrote. */
export async function waitConverged(a: Replica, b: Replica, ms = 20_000): Promise<void> {
  let last = '';
  try {
    await waitFor('both replicas in sync with nothing in flight', ms, async () => {
      const [sa, sb] = await Promise.all([replStats(a.port), replStats(b.port)]);
      last = JSON.stringify({ a: pick(sa), b: pick(sb) });
      const ok = sa.state === 'in_sync' && sb.state === 'in_sync' && sa.offset === sb.applied_offset && sb.offset === sa.applied_offset;
      return ok ? true : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last stats ${last}`);
  }
}

function pick(s: Record<string, string>): Record<string, string | undefined> {
  const { state, offset, applied_offset, peer_acked_offset, full_syncs_sent, partial_syncs_sent } = s;
  return { state, offset, applied_offset, peer_acked_offset, full_syncs_sent, partial_syncs_sent };
}

/** Every key of a known key space with flags, value and CAS: equal dumps mean equal caches. */
export async function dump(port: number, keys: readonly string[]): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    let out = '';
    for (let i = 0; i < keys.length; i += 100) {
      out += await c.call(`gets ${keys.slice(i, i + 100).join(' ')}\r\n`, 'END\r\n', 10_000);
    }
    return out;
  } finally {
    c.close();
  }
}
