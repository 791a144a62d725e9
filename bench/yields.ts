import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds } from '../test/helpers/proc-stats';
import { prefill, runLoad } from './load';
import { startTarget, stopTarget, type Target } from './targets';

/**
 * What -R costs on a pipelined load: `node dist/bench/yields.js [engine]` (after `npm run
 * build`). The bench's pipelined shape (4 connections x 32 requests in flight, 90% get,
 * 100-byte values) against the node at memcached's -R 20, where every batch yields once, and
 * at a -R no batch reaches, alternating in BENCH_ROUNDS rounds (3) of BENCH_SECONDS (3):
 * medians of ops/s and of the server's CPU per op. Many connections with one request in flight
 * each never yield, so `npm run bench` does not repeat this.
 */
const BIN = join(__dirname, '..', '..', 'bin', 'memcache-ha-native.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const VARIANTS = [['20'], ['1000000000']] as const;

function node(engine: string, reqsPerEvent: string): Target {
  return {
    name: `${engine} -R ${reqsPerEvent}`,
    start: (port, mb) => spawn(process.execPath, [BIN, 'serve', '-p', String(port), '--engine', engine, '-t', '1', '-m', String(mb), '-R', reqsPerEvent], { stdio: 'ignore' }),
  };
}

async function measure(engine: string, reqsPerEvent: string, seed: number): Promise<{ opsPerSec: number; cpuUsPerOp: number }> {
  const t = await startTarget(node(engine, reqsPerEvent), 256);
  try {
    await prefill(t.port, 10_000, 100);
    const cpu0 = cpuSeconds(t.proc.pid!);
    const r = await runLoad({ port: t.port, connections: 4, depth: 32, durationMs: SECONDS * 1000, keys: 10_000, valueSize: 100, getRatio: 0.9, seed });
    return { opsPerSec: r.opsPerSec, cpuUsPerOp: ((cpuSeconds(t.proc.pid!) - cpu0) / r.ops) * 1e6 };
  } finally {
    await stopTarget(t);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const engine = process.argv[2] ?? 'native';
  const runs = VARIANTS.map(() => ({ ops: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < VARIANTS.length; i++) {
      const m = await measure(engine, VARIANTS[i]![0], 7 + round);
      runs[i]!.ops.push(m.opsPerSec);
      runs[i]!.cpu.push(m.cpuUsPerOp);
    }
  }
  const [on, off] = runs.map((r) => ({ ops: median(r.ops), cpu: median(r.cpu) }));
  console.log(`| engine | -R | ops/s | server CPU us / op |\n| --- | --- | ---: | ---: |`);
  console.log(`| ${engine} | 20 | ${Math.round(on!.ops)} | ${on!.cpu.toFixed(3)} |`);
  console.log(`| ${engine} | never reached | ${Math.round(off!.ops)} | ${off!.cpu.toFixed(3)} |`);
  console.log(`-R 20 / never: ops/s ${(on!.ops / off!.ops).toFixed(2)}, CPU per op ${(on!.cpu / off!.cpu).toFixed(2)}`);
}

void main();
