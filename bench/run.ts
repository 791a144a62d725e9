import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { prefill, runLoad, type LoadResult } from './load';

/**
 * `npm run bench`: measures, side by side in one run, the engines against `memcached -t 1`
 * (when it is on PATH). Results go to bench/results/latest.{json,md}.
 */
const ROOT = join(__dirname, '..', '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const LOAD = { connections: 4, depth: 32, keys: 10_000, valueSize: 100, getRatio: 0.9 };

interface Target {
  name: string;
  start(port: number): ChildProcess;
}

const targets: Target[] = [
  { name: 'ts', start: (port) => spawn(process.execPath, [join(ROOT, 'bin', 'memcache-ha-native.js'), 'serve', '-p', String(port), '--engine', 'ts', '-m', '1024'], { stdio: 'ignore' }) },
];
if (onPath('memcached')) {
  targets.push({ name: 'memcached', start: (port) => spawn('memcached', ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-t', '1', '-m', '1024', '-u', 'root'], { stdio: 'ignore' }) });
}

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitServing(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never answered`);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  target: string;
  opsPerSec: number;
  p50us: number;
  p99us: number;
  serverCpuPerMops: number;
  clientCpuShare: number;
}

async function loadBenchmark(): Promise<Row[]> {
  const running = new Map<string, { proc: ChildProcess; port: number }>();
  for (const t of targets) {
    const port = await freePort();
    const proc = t.start(port);
    await waitServing(port);
    await prefill(port, LOAD.keys, LOAD.valueSize);
    running.set(t.name, { proc, port });
  }
  const samples = new Map<string, Array<LoadResult & { serverCpu: number }>>();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of round % 2 ? targets : [...targets].reverse()) {
        const { proc, port } = running.get(t.name)!;
        const cpu0 = cpuSeconds(proc.pid!);
        const r = await runLoad({ port, durationMs: SECONDS * 1000, seed: round, ...LOAD });
        const serverCpu = cpuSeconds(proc.pid!) - cpu0;
        log(`round ${round}/${ROUNDS} ${t.name}: ${Math.round(r.opsPerSec)} ops/s, p50 ${r.p50us.toFixed(0)} us, p99 ${r.p99us.toFixed(0)} us, server CPU ${serverCpu.toFixed(2)} s, load generator CPU ${r.clientCpu.toFixed(2)} s`);
        samples.set(t.name, [...(samples.get(t.name) ?? []), { ...r, serverCpu }]);
      }
    }
  } finally {
    for (const { proc } of running.values()) proc.kill('SIGKILL');
  }
  return targets.map((t) => {
    const s = samples.get(t.name)!;
    return {
      target: t.name,
      opsPerSec: median(s.map((x) => x.opsPerSec)),
      p50us: median(s.map((x) => x.p50us)),
      p99us: median(s.map((x) => x.p99us)),
      serverCpuPerMops: median(s.map((x) => (x.serverCpu / x.ops) * 1e6)),
      clientCpuShare: median(s.map((x) => x.clientCpu / x.seconds)),
    };
  });
}

function itemOverhead(): { valueSize: number; overheadPerItem: number } {
  log('measuring the TypeScript engine\'s memory per item (300,000 items of 100 bytes)');
  const out = execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'item-overhead.js'), '100'], { encoding: 'utf8' });
  return JSON.parse(out) as { valueSize: number; overheadPerItem: number };
}

(async () => {
  const command = 'npm run bench';
  const overhead = itemOverhead();
  log(`ts_item_overhead: ${overhead.overheadPerItem.toFixed(0)} bytes per item beyond key and data`);
  log(`load: ${ROUNDS} rounds x ${SECONDS} s per target, ${LOAD.connections} connections x ${LOAD.depth} pipelined, ${LOAD.getRatio * 100}% get, ${LOAD.valueSize}-byte values, Zipf(0.99) over ${LOAD.keys} keys; targets: ${targets.map((t) => t.name).join(', ')}`);
  const rows = await loadBenchmark();
  const mc = rows.find((r) => r.target === 'memcached');
  const table = [
    '| target | ops/s | vs memcached | p50 batch RTT (us) | p99 batch RTT (us) | server CPU s / M ops | load generator CPU share |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.target} | ${Math.round(r.opsPerSec)} | ${mc ? (r.opsPerSec / mc.opsPerSec).toFixed(2) : 'n/a'} | ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${r.serverCpuPerMops.toFixed(2)} | ${(r.clientCpuShare * 100).toFixed(0)}% |`),
  ].join('\n');
  const md = `# Benchmark results\n\nProduced by \`${command}\` on ${new Date().toISOString()} (${process.platform}, node ${process.version}).\n\n` +
    `Load: ${LOAD.connections} connections x ${LOAD.depth} pipelined requests, ${LOAD.getRatio * 100}% get / ${100 - LOAD.getRatio * 100}% set, ${LOAD.valueSize}-byte values, Zipf(0.99) over ${LOAD.keys} keys; ${ROUNDS} alternating rounds of ${SECONDS} s, medians.\n\n${table}\n\n` +
    `TypeScript engine memory per item beyond key and data: ${overhead.overheadPerItem.toFixed(0)} bytes.\n`;
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), JSON.stringify({ command, date: new Date().toISOString(), load: LOAD, rounds: ROUNDS, seconds: SECONDS, rows, tsItemOverhead: overhead }, null, 2) + '\n');
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), md);
  process.stdout.write(`\n${table}\n\nts_item_overhead: ${overhead.overheadPerItem.toFixed(0)} bytes/item\nwritten to bench/results/latest.{json,md}\n`);
})().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
