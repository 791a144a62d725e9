import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuSeconds } from '../test/helpers/proc-stats';
import { prefill, runLoad } from './load';
import { log, onPath, startTarget, stopTarget, type Running, type Target } from './targets';

/**
 * The load most production traffic is: many client connections, one request in flight each.
 * Driven two ways in the same alternating rounds: by memcaslap (libmemcached-tools' memaslap,
 * an outside tool whose figure anyone can reproduce: `memcaslap -s HOST:PORT -T 1 -c N -t Ss`,
 * its defaults of 90% get, 10% set and its own key and value sizes), and by the project's load
 * generator at the same shape (100-byte values, Zipf keys), which also gives latencies. Each
 * target's CPU per op comes from /proc, its system calls per op from `perf stat` on the syscall
 * tracepoints when perf can trace, else from /proc/<pid>/io (read- and write-like calls only).
 */
export type ManyTool = 'memcaslap' | 'loadgen';

export interface ManyConnRow {
  tool: ManyTool;
  connections: number;
  target: string;
  opsPerSec: number;
  /** Request round trip (the load generator only; memcaslap reports no percentiles). */
  p50us: number | null;
  p99us: number | null;
  serverCpuUsPerOp: number;
  /** All system calls per op (perf), or read- and write-like ones (/proc), with their source. */
  syscallsPerOp: number;
  syscallSource: 'perf' | 'proc';
  /** perf only: the calls that decide this load's cost, per op. */
  perCall: Record<string, number> | null;
}

export const MANY_CONNECTIONS = [32, 128] as const;
/** The calls shown one by one: reads, writes and the event loop's. */
// futex: a worker thread that found the store lock taken (or a wake of one).
const CALLS = ['read', 'recvfrom', 'writev', 'write', 'sendmsg', 'epoll_wait', 'epoll_pwait', 'epoll_ctl', 'futex'] as const;

/** Whether `perf stat` can count syscall tracepoints here (perf installed, tracefs readable). */
function perfCanTrace(): Promise<boolean> {
  if (!onPath('perf')) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '--', 'true'], (err, _out, stderr) => resolve(!err && /raw_syscalls:sys_enter/.test(stderr) && !/not supported|<not counted>/.test(stderr)));
  });
}

/** Counts a process's system calls while `during` runs: total and per call of CALLS. */
async function countSyscalls(pid: number, perf: boolean, during: () => Promise<void>): Promise<{ total: number; perCall: Record<string, number> | null }> {
  if (!perf) {
    const io = (): number => {
      const t = readFileSync(`/proc/${pid}/io`, 'utf8');
      return Number(/syscr: (\d+)/.exec(t)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(t)?.[1] ?? 0);
    };
    const before = io();
    await during();
    return { total: io() - before, perCall: null };
  }
  const events = ['raw_syscalls:sys_enter', ...CALLS.map((c) => `syscalls:sys_enter_${c}`)];
  const child = spawn('perf', ['stat', '-x,', ...events.flatMap((e) => ['-e', e]), '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  // perf attaches before it counts: give it a moment, so the load is counted whole.
  await new Promise((r) => setTimeout(r, 200));
  await during();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  const count = (event: string): number => {
    const line = out.split('\n').find((l) => l.split(',')[2] === event);
    return Number(line?.split(',')[0]) || 0;
  };
  return { total: count('raw_syscalls:sys_enter'), perCall: Object.fromEntries(CALLS.map((c) => [c, count(`syscalls:sys_enter_${c}`)])) };
}

/** One memcaslap run; resolves with its ops and seconds (its "Run time: Ns Ops: N TPS: N" line). */
function memcaslap(port: number, connections: number, seconds: number): Promise<{ ops: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    execFile('memcaslap', ['-s', `127.0.0.1:${port}`, '-T', '1', '-c', String(connections), '-t', `${seconds}s`], { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      const m = /Run time: ([\d.]+)s Ops: (\d+) TPS: (\d+)/.exec(stdout);
      if (!m) return reject(new Error(`memcaslap gave no result${err ? ` (${err.message})` : ''}: ${stdout.slice(-300)}`));
      resolve({ ops: Number(m[2]), seconds: Number(m[1]) });
    });
  });
}

export async function manyConnectionsBenchmark(targets: Target[], rounds: number, seconds: number): Promise<ManyConnRow[]> {
  const tools: ManyTool[] = onPath('memcaslap') ? ['memcaslap', 'loadgen'] : ['loadgen'];
  if (tools.length === 1) log('many connections: memcaslap is not installed (apt-get install libmemcached-tools): the project load generator only');
  const perf = await perfCanTrace();
  log(`many connections: system calls counted by ${perf ? 'perf stat' : '/proc/<pid>/io (perf cannot trace here)'}`);
  type Sample = { ops: number; seconds: number; cpu: number; syscalls: number; perCall: Record<string, number> | null; p50us: number | null; p99us: number | null };
  const samples = new Map<string, Sample[]>();
  const running = new Map<string, Running>();
  try {
    for (const t of targets) {
      const r = await startTarget(t, 1024);
      await prefill(r.port, 10_000, 100);
      running.set(t.name, r);
    }
    const runs = tools.flatMap((tool) => MANY_CONNECTIONS.flatMap((connections) => targets.map((t) => ({ tool, connections, t }))));
    for (let round = 1; round <= rounds; round++) {
      for (const { tool, connections, t } of round % 2 ? runs : [...runs].reverse()) {
        const { proc, port } = running.get(t.name)!;
        const pid = proc.pid!;
        const cpu0 = cpuSeconds(pid);
        let s: Omit<Sample, 'cpu' | 'syscalls' | 'perCall'> = { ops: 0, seconds: 0, p50us: null, p99us: null };
        const counted = await countSyscalls(pid, perf, async () => {
          if (tool === 'memcaslap') {
            s = { ...(await memcaslap(port, connections, seconds)), p50us: null, p99us: null };
          } else {
            const r = await runLoad({ port, connections, depth: 1, durationMs: seconds * 1000, keys: 10_000, valueSize: 100, getRatio: 0.9, seed: round });
            s = { ops: r.ops, seconds: r.seconds, p50us: r.p50us, p99us: r.p99us };
          }
        });
        const cpu = cpuSeconds(pid) - cpu0;
        const key = `${tool} ${connections} ${t.name}`;
        samples.set(key, [...(samples.get(key) ?? []), { ...s, cpu, syscalls: counted.total, perCall: counted.perCall }]);
        log(`many connections round ${round}/${rounds} ${tool} -c ${connections} ${t.name}: ${Math.round(s.ops / s.seconds)} ops/s, ${((cpu / s.ops) * 1e6).toFixed(2)} us CPU and ${(counted.total / s.ops).toFixed(2)} system calls per op`);
      }
    }
  } finally {
    for (const r of running.values()) await stopTarget(r);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return tools.flatMap((tool) => MANY_CONNECTIONS.flatMap((connections) => targets.map((t) => {
    const s = samples.get(`${tool} ${connections} ${t.name}`)!;
    const first = s[0]!;
    return {
      tool,
      connections,
      target: t.name,
      opsPerSec: median(s.map((x) => x.ops / x.seconds)),
      p50us: first.p50us === null ? null : median(s.map((x) => x.p50us!)),
      p99us: first.p99us === null ? null : median(s.map((x) => x.p99us!)),
      serverCpuUsPerOp: median(s.map((x) => (x.cpu / x.ops) * 1e6)),
      syscallsPerOp: median(s.map((x) => x.syscalls / x.ops)),
      syscallSource: perf ? 'perf' : 'proc',
      perCall: first.perCall === null ? null : Object.fromEntries(CALLS.map((c) => [c, median(s.map((x) => x.perCall![c]! / x.ops))])),
    };
  })));
}
