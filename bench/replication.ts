import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { cpuSeconds } from '../test/helpers/proc-stats';
import { freePort, waitUntilServing } from '../test/helpers/servers';
import { runLoad, prefill, type LoadOptions } from './load';
import { log, pipe } from './targets';

const BIN = join(__dirname, '..', '..', 'bin', 'memcache-ha-native.js');
const SYNC_ITEMS = 1_000_000;
const SYNC_VALUE = 100;
const WARM_UP_MS = 1000;

export interface WriteRow {
  engine: string;
  standalone: number;
  async: number;
  sync: number;
  /** The load benchmark's mix (90% get): alone and with an async peer. */
  mixedStandalone: number;
  mixedAsync: number;
  /**
   * The host control: the node alone while a busy loop at idle priority (nice 19) takes
   * whatever CPU the node and the load generator leave. It does no replication work at all:
   * what it costs the node is what any second busy process costs it on this host.
   */
  standaloneSpinner: number;
  /** CPU (user + system) the loaded node spent per set, microseconds: alone, with an async peer. */
  cpuPerSetStandalone: number;
  cpuPerSetAsync: number;
}

/** A busy loop at nice 19 (the lowest priority): it runs only where nothing else wants the CPU. */
function startSpinner(): Node {
  const proc = spawn('nice', ['-n', '19', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });
  return { proc, port: 0, stderr: () => '' };
}

export interface FullSyncRow {
  engine: string;
  items: number;
  seconds: number;
  mbPerSec: number;
}

export interface LagRow {
  engine: string;
  samples: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
}

interface Node {
  proc: ChildProcess;
  port: number;
  stderr: () => string;
}

async function startNode(engine: string, args: string[]): Promise<Node> {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, 'serve', '--engine', engine, '-t', '1', '-p', String(port), '-m', '1024', '-v', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitUntilServing(port, 60_000);
  return { proc, port, stderr: () => err };
}

function stop(...nodes: Node[]): Promise<void> {
  return Promise.all(nodes.map((n) => new Promise<void>((resolve) => {
    if (n.proc.exitCode !== null) return resolve();
    n.proc.once('exit', () => resolve());
    n.proc.kill('SIGKILL');
  }))).then(() => undefined);
}

/** A pair on one host sharing a fresh -X; `mode` applies to the first node (the one loaded). */
async function startPair(engine: string, mode: 'async' | 'sync'): Promise<[Node, Node]> {
  const X = String(await freePort());
  const a = await startNode(engine, ['-x', '127.0.0.1', '-X', X, '--repl-mode', mode]);
  const b = await startNode(engine, ['-x', '127.0.0.1', '-X', X]);
  return [a, b];
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** Sets only, pipelined: the node alone, then with a peer in async and in sync mode, alternating rounds. */
export async function writeThroughput(engines: string[], rounds: number, seconds: number): Promise<WriteRow[]> {
  const load: Omit<LoadOptions, 'port' | 'seed' | 'durationMs'> = { connections: 4, depth: 32, keys: 10_000, valueSize: 100, getRatio: 0 };
  const rows: WriteRow[] = [];
  for (const engine of engines) {
    const alone = async (): Promise<Node[]> => [await startNode(engine, [])];
    type Measured = 'standalone' | 'async' | 'sync' | 'mixedStandalone' | 'mixedAsync' | 'standaloneSpinner';
    const setups: Array<[Measured, () => Promise<Node[]>, number]> = [
      ['standalone', alone, 0],
      ['async', () => startPair(engine, 'async'), 0],
      ['sync', () => startPair(engine, 'sync'), 0],
      ['mixedStandalone', alone, 0.9],
      ['mixedAsync', () => startPair(engine, 'async'), 0.9],
      ['standaloneSpinner', async () => [...(await alone()), startSpinner()], 0],
    ];
    const samples: Record<string, number[]> = {};
    const cpuPerSet: Record<string, number[]> = {};
    for (let round = 1; round <= rounds; round++) {
      for (const [name, start, getRatio] of round % 2 ? setups : [...setups].reverse()) {
        const nodes = await start();
        try {
          if (getRatio > 0) await prefill(nodes[0]!.port, load.keys, load.valueSize);
          // One unmeasured second first: steady state, with the JavaScript side (replication) compiled.
          await runLoad({ port: nodes[0]!.port, durationMs: WARM_UP_MS, seed: round + 1000, ...load, getRatio });
          const pid = nodes[0]!.proc.pid!;
          const cpu0 = cpuSeconds(pid);
          const r = await runLoad({ port: nodes[0]!.port, durationMs: seconds * 1000, seed: round, ...load, getRatio });
          const us = ((cpuSeconds(pid) - cpu0) / r.ops) * 1e6;
          samples[name] ??= [];
          samples[name]!.push(r.opsPerSec);
          cpuPerSet[name] ??= [];
          cpuPerSet[name]!.push(us);
          log(`replication ${engine} ${name} round ${round}/${rounds}: ${Math.round(r.opsPerSec)} ops/s, the node's CPU ${us.toFixed(2)} us per request`);
        } finally {
          await stop(...nodes);
        }
      }
    }
    const m = (k: Measured): number => median(samples[k]!);
    rows.push({
      engine, standalone: m('standalone'), async: m('async'), sync: m('sync'), mixedStandalone: m('mixedStandalone'), mixedAsync: m('mixedAsync'),
      standaloneSpinner: m('standaloneSpinner'), cpuPerSetStandalone: median(cpuPerSet.standalone!), cpuPerSetAsync: median(cpuPerSet.async!),
    });
  }
  return rows;
}

function* syncChunks(): Generator<string> {
  const value = 'v'.repeat(SYNC_VALUE);
  for (let start = 0; start < SYNC_ITEMS; start += 10_000) {
    let chunk = '';
    for (let i = start; i < start + 10_000; i++) chunk += `set key:${String(i).padStart(7, '0')} 0 0 ${SYNC_VALUE} noreply\r\n${value}\r\n`;
    yield chunk;
  }
}

/** 1M items of 100 bytes on one node, then its peer starts empty: the full sync's time, from the receiver's log. */
export async function fullSync(engines: string[]): Promise<FullSyncRow[]> {
  const rows: FullSyncRow[] = [];
  for (const engine of engines) {
    const X = String(await freePort());
    const a = await startNode(engine, ['-x', '127.0.0.1', '-X', X]);
    let b: Node | null = null;
    try {
      await pipe(a.port, syncChunks(), (i) => {
        if (i % 25 === 24) log(`full sync ${engine}: ${((i + 1) * 10_000).toLocaleString('en')} items loaded`);
      });
      log(`full sync ${engine}: starting the empty peer`);
      b = await startNode(engine, ['-x', '127.0.0.1', '-X', X]);
      const text = b.stderr();
      const begin = /^(\S+) .*full sync from .*: (\d+) items$/m.exec(text);
      const end = /^(\S+) .*full sync from .* complete: (\d+) items, ([\d.]+) MB/m.exec(text);
      if (!begin || !end) throw new Error(`no full sync lines in the peer's log:\n${text}`);
      const seconds = (Date.parse(end[1]!) - Date.parse(begin[1]!)) / 1000;
      const mb = Number(end[3]);
      rows.push({ engine, items: Number(end[2]), seconds, mbPerSec: mb / seconds });
      log(`full sync ${engine}: ${end[2]} items, ${mb} MB in ${seconds.toFixed(2)} s (${(mb / seconds).toFixed(0)} MB/s)`);
    } finally {
      await stop(a, ...(b ? [b] : []));
    }
  }
  return rows;
}

/** How long a write to one node takes to be readable on the other, while the load benchmark runs on the first. */
export async function replicationLag(engines: string[], seconds: number): Promise<LagRow[]> {
  const rows: LagRow[] = [];
  for (const engine of engines) {
    const [a, b] = await startPair(engine, 'async');
    try {
      await prefill(a.port, 10_000, 100);
      const loadDone = runLoad({ port: a.port, durationMs: seconds * 1000, seed: 1, connections: 4, depth: 32, keys: 10_000, valueSize: 100, getRatio: 0.9 });
      const lags = await probeLag(a.port, b.port, seconds * 1000);
      await loadDone;
      lags.sort((x, y) => x - y);
      const row = {
        engine, samples: lags.length, p50ms: lags[Math.floor(lags.length / 2)]!, p99ms: lags[Math.floor(lags.length * 0.99)]!, maxMs: lags[lags.length - 1]!,
      };
      log(`replication lag ${engine}: ${row.samples} probes, p50 ${row.p50ms.toFixed(2)} ms, p99 ${row.p99ms.toFixed(2)} ms`);
      rows.push(row);
    } finally {
      await stop(a, b);
    }
  }
  return rows;
}

/** Writes probe:i to `from` every 20 ms and polls `to` until it is there; returns the delays in ms. */
async function probeLag(from: number, to: number, durationMs: number): Promise<number[]> {
  const [w, r] = await Promise.all([lineClient(from), lineClient(to)]);
  const out: number[] = [];
  const until = Date.now() + durationMs;
  try {
    for (let i = 0; Date.now() < until; i++) {
      await w(`set probe:${i} 0 0 1\r\nx\r\n`, 'STORED\r\n');
      const t0 = process.hrtime.bigint();
      while ((await r(`get probe:${i}\r\n`, 'END\r\n')) === 'END\r\n') {
        if (Number(process.hrtime.bigint() - t0) > 5e9) throw new Error(`probe:${i} not replicated after 5 s`);
      }
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    await Promise.all([w(null, ''), r(null, '')]);
  }
  return out;
}

/** One connection: send a request, resolve with the reply once it ends with `terminator`. */
function lineClient(port: number): Promise<(req: string | null, terminator: string) => Promise<string>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.once('error', reject);
    let buf = '';
    let waiting: { terminator: string; done: (s: string) => void } | null = null;
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      if (waiting && buf.endsWith(waiting.terminator)) {
        const w = waiting;
        waiting = null;
        const reply = buf;
        buf = '';
        w.done(reply);
      }
    });
    socket.once('connect', () => resolve((req, terminator) => {
      if (req === null) {
        socket.destroy();
        return Promise.resolve('');
      }
      return new Promise((done) => {
        waiting = { terminator, done };
        socket.write(req);
      });
    }));
  });
}
