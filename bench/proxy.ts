import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ketama } from '../src/proxy/ketama';
import { RawClient } from '../test/helpers/client';
import { cpuSeconds } from '../test/helpers/proc-stats';
import { freePort, waitUntilServing } from '../test/helpers/servers';
import { prefill, runLoad, type LoadResult } from './load';
import { log, onPath, stopTarget, type Running } from './targets';

const BIN = join(__dirname, '..', '..', 'bin', 'memcache-ha-native.js');

export interface ProxyLoadRow {
  load: string;
  target: string;
  opsPerSec: number;
  p50us: number;
  p99us: number;
  /** CPU seconds of the proxy process per million requests (0 for direct). */
  proxyCpuPerMops: number;
}

export interface FailoverRow {
  engine: string;
  kills: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
}

const LOADS = [
  { name: '4 conns x 32 pipelined', connections: 4, depth: 32 },
  { name: '16 conns x 1', connections: 16, depth: 1 },
];
const KEYS = 10_000;
const VALUE = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0;
}

async function started(proc: ChildProcess, port: number): Promise<Running> {
  await waitUntilServing(port);
  return { proc, port };
}

/** The backend both proxies front: memcached -t 1 when installed, else our native node. */
async function startBackend(): Promise<{ name: string; running: Running }> {
  const port = await freePort();
  if (onPath('memcached')) {
    const proc = spawn('memcached', ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-t', '1', '-m', '1024', '-u', 'root'], { stdio: 'ignore' });
    return { name: 'memcached -t 1', running: await started(proc, port) };
  }
  const proc = spawn(process.execPath, [BIN, 'serve', '-t', '1', '-p', String(port), '-m', '1024'], { stdio: 'ignore' });
  return { name: 'memcache-ha-native serve', running: await started(proc, port) };
}

async function startOurProxy(backendPort: number, engine: string): Promise<Running> {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, 'proxy', '--engine', engine, '-p', String(port), '-s', `127.0.0.1:${backendPort}`], { stdio: 'ignore' });
  return started(proc, port);
}

/** twemproxy with the same routing: ketama, MD5, one server, a 1 s timeout, ejection after 2 failures. */
async function startTwemproxy(backendPort: number): Promise<Running> {
  const port = await freePort();
  const stats = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nutcracker-'));
  const conf = join(dir, 'nutcracker.yml');
  writeFileSync(conf, [
    'bench:',
    `  listen: 127.0.0.1:${port}`,
    '  hash: md5',
    '  distribution: ketama',
    '  timeout: 1000',
    '  auto_eject_hosts: true',
    '  server_failure_limit: 2',
    '  server_retry_timeout: 500',
    '  servers:',
    `    - 127.0.0.1:${backendPort}:1`,
    '',
  ].join('\n'));
  const proc = spawn('nutcracker', ['-c', conf, '-s', String(stats), '-o', join(dir, 'log')], { stdio: 'ignore' });
  return started(proc, port);
}

/** Throughput and latency through our proxy and twemproxy, against the backend directly, side by side. */
export async function proxyThroughput(rounds: number, seconds: number, nativeLoads: boolean): Promise<{ backend: string; rows: ProxyLoadRow[] }> {
  const backend = await startBackend();
  const targets: { name: string; running: Running | null }[] = [{ name: 'direct', running: null }];
  try {
    await prefill(backend.running.port, KEYS, VALUE);
    if (nativeLoads) targets.push({ name: 'proxy (native)', running: await startOurProxy(backend.running.port, 'native') });
    targets.push({ name: 'proxy (ts)', running: await startOurProxy(backend.running.port, 'ts') });
    if (onPath('nutcracker')) targets.push({ name: 'twemproxy (nutcracker)', running: await startTwemproxy(backend.running.port) });
    else log('nutcracker is not installed: no twemproxy column');
    const samples = new Map<string, (LoadResult & { cpu: number })[]>();
    for (const load of LOADS) {
      for (let round = 1; round <= rounds; round++) {
        for (const t of round % 2 ? targets : [...targets].reverse()) {
          const port = t.running?.port ?? backend.running.port;
          const pid = t.running?.proc.pid;
          const cpu0 = pid ? cpuSeconds(pid) : 0;
          const r = await runLoad({ port, durationMs: seconds * 1000, keys: KEYS, valueSize: VALUE, getRatio: 0.9, seed: round, connections: load.connections, depth: load.depth });
          const cpu = pid ? cpuSeconds(pid) - cpu0 : 0;
          log(`proxy load ${load.name} round ${round}/${rounds} ${t.name}: ${Math.round(r.opsPerSec)} ops/s, p50 ${r.p50us.toFixed(0)} us, p99 ${r.p99us.toFixed(0)} us`);
          const key = `${load.name}|${t.name}`;
          samples.set(key, [...(samples.get(key) ?? []), { ...r, cpu }]);
        }
      }
    }
    const rows: ProxyLoadRow[] = [];
    for (const load of LOADS) {
      for (const t of targets) {
        const s = samples.get(`${load.name}|${t.name}`)!;
        rows.push({
          load: load.name,
          target: t.name,
          opsPerSec: median(s.map((x) => x.opsPerSec)),
          p50us: median(s.map((x) => x.p50us)),
          p99us: median(s.map((x) => x.p99us)),
          proxyCpuPerMops: median(s.map((x) => (x.cpu / x.ops) * 1e6)),
        });
      }
    }
    return { backend: backend.name, rows };
  } finally {
    for (const t of targets) if (t.running) await stopTarget(t.running);
    await stopTarget(backend.running);
  }
}

/** A sync-mode replica on `port` (a free one unless given: a restart keeps its port). */
async function startReplica(engine: string, replPort: number, port?: number): Promise<Running> {
  port ??= await freePort();
  const proc = spawn(process.execPath, [BIN, 'serve', '--engine', engine, '-t', '1', '-p', String(port), '-x', '127.0.0.1', '-X', String(replPort), '--repl-mode', 'sync'], { stdio: 'ignore' });
  return started(proc, port);
}

/**
 * Failover time: a client keeps reading keys that live on node A through the proxy; A is
 * killed with SIGKILL; the time from the kill to the first reply to a request sent after it
 * (so served by B) is one sample. A is restarted, and the proxy waits to take it back before the
 * next kill.
 */
export async function failoverTime(engine: string, kills: number): Promise<FailoverRow> {
  const X = await freePort();
  const a = await startReplica(engine, X);
  const b = await startReplica(engine, X);
  const proxyPort = await freePort();
  const proxy = await started(spawn(process.execPath, [BIN, 'proxy', '-p', String(proxyPort), '-s', `127.0.0.1:${a.port}`, '-s', `127.0.0.1:${b.port}`, '--probe-interval', '100'], { stdio: 'ignore' }), proxyPort);
  const nodes = [a, b];
  const samples: number[] = [];
  try {
    const ring = new Ketama([a, b].map((n) => ({ host: '127.0.0.1', port: n.port, weight: 1 })));
    const keys = Array.from({ length: 200 }, (_, i) => `f:${i}`).filter((k) => ring.memberOf(k) === 0);
    const client = await RawClient.connect(proxy.port);
    await client.call(keys.map((k) => `set ${k} 0 0 1 noreply\r\nx\r\n`).join('') + 'mn\r\n', 'MN\r\n');
    for (let i = 0; i < kills; i++) {
      await waitUp(client, 0);
      const killedAt = performance.now();
      nodes[0]!.proc.kill('SIGKILL');
      for (let k = 0; ; k = (k + 1) % keys.length) {
        const sentAt = performance.now();
        const reply = await client.call(`get ${keys[k]}\r\n`, '\r\n', 5000);
        if (reply.startsWith('VALUE') && sentAt >= killedAt) {
          samples.push(performance.now() - killedAt);
          break;
        }
        if (reply.startsWith('VALUE')) await client.readUntilSuffix('END\r\n');
      }
      log(`failover ${engine} ${i + 1}/${kills}: ${samples[samples.length - 1]!.toFixed(1)} ms`);
      await stopTarget(nodes[0]!);
      nodes[0] = await startReplica(engine, X, nodes[0]!.port);
    }
    client.close();
  } finally {
    await stopTarget(proxy);
    for (const n of nodes) await stopTarget(n);
  }
  return { engine, kills: samples.length, p50ms: quantile(samples, 0.5), p99ms: quantile(samples, 0.99), maxMs: Math.max(...samples) };
}

/** Waits until the proxy reports backend `i` up. */
async function waitUp(client: RawClient, i: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const stats = await client.call('stats proxy\r\n', 'END\r\n');
    if (stats.includes(`STAT backend:${i}:state up\r\n`)) return;
    if (Date.now() > deadline) throw new Error(`backend ${i} did not come back`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
