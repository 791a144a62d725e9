import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAddon } from '../src/engine/native/addon';
import { writeChart } from './chart';
import { hitRatioBenchmark, type HitRatioRow } from './hit-ratio';
import { LOADGEN, runLoad, prefill, type LoadProtocol, type LoadResult } from './load';
import { manyConnectionsBenchmark, type ManyConnRow } from './many-connections';
import { memoryBenchmark, type MemoryRow } from './memory';
import { microBenchmarks, type MicroRow } from './micro';
import { loadDevAddon } from '../test/helpers/dev-addon';
import { failoverTime, proxyThroughput, type FailoverRow, type ProxyLoadRow } from './proxy';
import { fullSync, replicationLag, writeThroughput, type FullSyncRow, type LagRow, type WriteRow } from './replication';
import { cpuSeconds } from '../test/helpers/proc-stats';
import { availableTargets, log, memcachedPeer, startTarget, stopTarget, threadedTargets, type Running, type Target } from './targets';

/**
 * `npm run bench`: the engines side by side with `memcached -t 1` (when installed), in one
 * run: micro-benchmarks, many connections with one request in flight each (memcaslap and the
 * project's load generator), a pipelined load, memory per item and miss ratio, then replication
 * (write throughput with a peer, full sync, lag). Results go to bench/results/latest.{json,md},
 * and a chart of the throughputs to latest.svg (bench/chart.ts; `npm run bench:chart` redraws it).
 * BENCH_ROUNDS / BENCH_SECONDS resize the load parts.
 */
const ROOT = join(__dirname, '..', '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const LOAD = { connections: 4, depth: 32, keys: 10_000, valueSize: 100, getRatio: 0.9 };
const COMMAND = 'npm run bench';
const FAILOVER_KILLS = Number(process.env.BENCH_FAILOVER_KILLS ?? 20);
/** Request-response through a proxy swings most with the shared host's load: more rounds. */
const PROXY_ROUNDS = ROUNDS + 2;

type Protocol = LoadProtocol;
const PROTOCOLS: readonly Protocol[] = ['text', 'meta', 'binary'];
const PROTOCOL_NAMES: Record<Protocol, string> = { text: 'get/set', meta: 'mg v/ms', binary: 'binary get/set' };

interface LoadRow {
  target: string;
  protocol: Protocol;
  opsPerSec: number;
  p50us: number;
  p99us: number;
  serverCpuPerMops: number;
  serverCpuShare: number;
  clientCpuShare: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function loadBenchmark(targets: Target[]): Promise<LoadRow[]> {
  const running = new Map<string, Running>();
  const samples = new Map<string, Array<LoadResult & { serverCpu: number }>>();
  const sampleKey = (t: Target, p: Protocol) => `${t.name} ${p}`;
  try {
    for (const t of targets) {
      const r = await startTarget(t, 1024);
      await prefill(r.port, LOAD.keys, LOAD.valueSize);
      running.set(t.name, r);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order so drift on a shared machine does not favour one target or protocol.
      const runs = targets.flatMap((t) => PROTOCOLS.map((protocol) => ({ t, protocol })));
      for (const { t, protocol } of round % 2 ? runs : [...runs].reverse()) {
        const { proc, port } = running.get(t.name)!;
        const cpu0 = cpuSeconds(proc.pid!);
        const r = await runLoad({ port, durationMs: SECONDS * 1000, seed: round, protocol, ...LOAD });
        const serverCpu = cpuSeconds(proc.pid!) - cpu0;
        log(`load round ${round}/${ROUNDS} ${t.name} ${PROTOCOL_NAMES[protocol]}: ${Math.round(r.opsPerSec)} ops/s, p50 ${r.p50us.toFixed(0)} us, p99 ${r.p99us.toFixed(0)} us, server CPU ${serverCpu.toFixed(2)} s, load generator CPU ${r.clientCpu.toFixed(2)} s`);
        const key = sampleKey(t, protocol);
        samples.set(key, [...(samples.get(key) ?? []), { ...r, serverCpu }]);
      }
    }
  } finally {
    for (const r of running.values()) await stopTarget(r);
  }
  return targets.flatMap((t) => PROTOCOLS.map((protocol) => {
    const s = samples.get(sampleKey(t, protocol))!;
    return {
      target: t.name,
      protocol,
      opsPerSec: median(s.map((x) => x.opsPerSec)),
      p50us: median(s.map((x) => x.p50us)),
      p99us: median(s.map((x) => x.p99us)),
      serverCpuPerMops: median(s.map((x) => (x.serverCpu / x.ops) * 1e6)),
      serverCpuShare: median(s.map((x) => x.serverCpu / x.seconds)),
      clientCpuShare: median(s.map((x) => x.clientCpu / x.seconds)),
    };
  }));
}

/** The TypeScript engine's heap per item beyond key and data (bench/item-overhead.ts). */
function tsItemOverhead(): number {
  log('the TypeScript engine\'s heap per item (300,000 items of 100 bytes)');
  const out = execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'item-overhead.js'), '100'], { encoding: 'utf8' });
  return (JSON.parse(out) as { overheadPerItem: number }).overheadPerItem;
}

function ratio(value: number, base: number | undefined): string {
  return base ? (value / base).toFixed(2) : 'n/a';
}

interface ReplicationResults {
  writes: WriteRow[];
  fullSync: FullSyncRow[];
  lag: LagRow[];
}

function replicationReport(r: ReplicationResults): string[] {
  return [
    `## Replication: sets only (${4} connections x 32 pipelined, 100-byte values), the node alone vs with a peer on the same host; ${ROUNDS} alternating rounds of ${SECONDS} s, medians`,
    ``,
    `| engine | alone sets/s | async peer sets/s | async / alone | sync peer sets/s | sync / alone | 90% get: alone ops/s | 90% get: async peer ops/s | async / alone |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...r.writes.map((w) => `| ${w.engine} | ${Math.round(w.standalone)} | ${Math.round(w.async)} | ${(w.async / w.standalone).toFixed(2)} | ${Math.round(w.sync)} | ${(w.sync / w.standalone).toFixed(2)} | ${Math.round(w.mixedStandalone)} | ${Math.round(w.mixedAsync)} | ${(w.mixedAsync / w.mixedStandalone).toFixed(2)} |`),
    ``,
    `The peer runs on the same 2-core machine as the node and the load generator (${LOADGEN === 'native' ? "the addon's, in C++" : 'in JavaScript'}). Two controls in the same rounds:`,
    `the node alone while a busy loop runs at the lowest priority (nice 19; it takes only CPU nobody else wants and does no replication), and the loaded node's own CPU per set.`,
    ``,
    `| engine | alone sets/s | alone + idle-priority spinner | spinner / alone | async peer / (alone + spinner) | node CPU per set alone, us | with an async peer, us | alone / async (CPU capacity) |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...r.writes.map((w) => `| ${w.engine} | ${Math.round(w.standalone)} | ${Math.round(w.standaloneSpinner)} | ${(w.standaloneSpinner / w.standalone).toFixed(2)} | ${(w.async / w.standaloneSpinner).toFixed(2)} | ${w.cpuPerSetStandalone.toFixed(3)} | ${w.cpuPerSetAsync.toFixed(3)} | ${(w.cpuPerSetStandalone / w.cpuPerSetAsync).toFixed(2)} |`),
    ``,
    `## Full sync: an empty peer joins a node holding 1,000,000 items of 100 bytes (time from the receiver's log)`,
    ``,
    `| engine | items | seconds | MB/s |`,
    `| --- | ---: | ---: | ---: |`,
    ...r.fullSync.map((f) => `| ${f.engine} | ${f.items} | ${f.seconds.toFixed(2)} | ${f.mbPerSec.toFixed(0)} |`),
    ``,
    `## Replication lag under the load benchmark (a write on one node until a get on the peer sees it, probed every 20 ms)`,
    ``,
    `| engine | probes | p50 ms | p99 ms | max ms |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...r.lag.map((l) => `| ${l.engine} | ${l.samples} | ${l.p50ms.toFixed(2)} | ${l.p99ms.toFixed(2)} | ${l.maxMs.toFixed(2)} |`),
    ``,
  ];
}

interface ProxyResults {
  backend: string;
  load: ProxyLoadRow[];
  failover: FailoverRow[];
}

function proxyReport(p: ProxyResults): string[] {
  const loads = [...new Set(p.load.map((r) => r.load))];
  const lines = [
    `## Proxy: 90% get, 100-byte values, Zipf(0.99) over 10,000 keys, one backend (${p.backend}); direct, through our proxy and through twemproxy (ketama, MD5, 1 s timeout), ${PROXY_ROUNDS} alternating rounds of ${SECONDS} s, medians`,
    ``,
    `| load | target | ops/s | vs direct | vs twemproxy | p50 RTT (us) | p99 RTT (us) | added p99 (us) | proxy CPU s / M requests |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const load of loads) {
    const rows = p.load.filter((r) => r.load === load);
    const direct = rows.find((r) => r.target === 'direct')!;
    const tw = rows.find((r) => r.target.startsWith('twemproxy'));
    for (const r of rows) {
      lines.push(`| ${load} | ${r.target} | ${Math.round(r.opsPerSec)} | ${ratio(r.opsPerSec, direct.opsPerSec)} | ${ratio(r.opsPerSec, tw?.opsPerSec)} | ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${r === direct ? '-' : (r.p99us - direct.p99us).toFixed(0)} | ${r === direct ? '-' : r.proxyCpuPerMops.toFixed(2)} |`);
    }
  }
  lines.push(
    ``,
    `## Failover: two replicated nodes (sync mode) behind the proxy; kill -9 the node a client's keys live on, time until a request sent after the kill is answered by the survivor; the killed node is restarted and taken back between kills`,
    ``,
    `| engine | kills | p50 ms | p99 ms | max ms |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...p.failover.map((f) => `| ${f.engine} | ${f.kills} | ${f.p50ms.toFixed(1)} | ${f.p99ms.toFixed(1)} | ${f.maxMs.toFixed(1)} |`),
    ``,
  );
  return lines;
}

function manyReport(rows: ManyConnRow[]): string[] {
  if (rows.length === 0) return [];
  const mc = (r: ManyConnRow) => rows.find((x) => x.tool === r.tool && x.connections === r.connections && x.target === memcachedPeer(r.target));
  const perf = rows[0]!.syscallSource === 'perf';
  const per = (r: ManyConnRow, ...calls: string[]) => (r.perCall ? calls.reduce((a, c) => a + (r.perCall![c] ?? 0), 0).toFixed(2) : 'n/a');
  const us = (v: number | null) => (v === null ? '-' : v.toFixed(0));
  return [
    `## Many connections, one request in flight each; ${ROUNDS} alternating rounds of ${SECONDS} s, medians`,
    ``,
    `memcaslap: \`memcaslap -s 127.0.0.1:PORT -T 1 -c N -t ${SECONDS}s\` (its defaults: 90% get, 10% set, its own key and value sizes). loadgen: this project's load generator, N connections x 1, 90% get, 100-byte values, Zipf(0.99) over 10,000 keys. System calls per op: ${perf ? 'all of them, from `perf stat` on the syscall tracepoints' : 'read- and write-like calls only, from /proc/<pid>/io (perf could not trace)'}.`,
    ``,
    `| tool | conns | target | ops/s | vs memcached | p50 RTT (us) | p99 RTT (us) | server CPU us / op | CPU vs memcached | syscalls / op | read | write, writev, sendmsg | epoll_wait | epoll_ctl | futex |`,
    `| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map((r) => `| ${r.tool} | ${r.connections} | ${r.target} | ${Math.round(r.opsPerSec)} | ${ratio(r.opsPerSec, mc(r)?.opsPerSec)} | ${us(r.p50us)} | ${us(r.p99us)} | ${r.serverCpuUsPerOp.toFixed(2)} | ${ratio(r.serverCpuUsPerOp, mc(r)?.serverCpuUsPerOp)} | ${r.syscallsPerOp.toFixed(2)} | ${per(r, 'read', 'recvfrom')} | ${per(r, 'write', 'writev', 'sendmsg')} | ${per(r, 'epoll_wait', 'epoll_pwait')} | ${per(r, 'epoll_ctl')} | ${per(r, 'futex')} |`),
    ``,
    `"vs memcached" compares with memcached at the same thread count. This host has 2 cores shared with the load tool, so -t 2 cannot show throughput scaling here; its cost can: server CPU per op at -t 2 over -t 1 (1.00 is perfect scaling efficiency, more is what the second thread costs in locking and handoff):`,
    ``,
    ...scaling(rows),
    ``,
  ];
}

function scaling(rows: ManyConnRow[]): string[] {
  const out: string[] = [];
  for (const base of ['native', 'memcached']) {
    for (const r of rows.filter((x) => x.target === base)) {
      const t2 = rows.find((x) => x.tool === r.tool && x.connections === r.connections && x.target === `${base} -t 2`);
      if (t2) out.push(`- ${r.tool} -c ${r.connections}, ${base}: ${ratio(t2.serverCpuUsPerOp, r.serverCpuUsPerOp)} CPU per op, ${ratio(t2.opsPerSec, r.opsPerSec)} ops/s`);
    }
  }
  return out;
}

function report(micro: MicroRow[], many: ManyConnRow[], load: LoadRow[], memory: MemoryRow[], tsOverhead: number, hits: HitRatioRow[], repl: ReplicationResults, proxy: ProxyResults, seconds: number): string {
  const mcLoad = (p: Protocol) => load.find((r) => r.target === 'memcached' && r.protocol === p);
  const textLoad = (target: string) => load.find((r) => r.target === target && r.protocol === 'text');
  const mcMem = memory.find((r) => r.target === 'memcached');
  const mcHit = hits.find((r) => r.target === 'memcached');
  return [
    `# Benchmark results`,
    ``,
    `Produced by \`${COMMAND}\` on ${new Date().toISOString()} (node ${process.version}, ${process.platform}), in ${seconds.toFixed(0)} s.`,
    ``,
    `## Micro-benchmarks (benchmark.js; one call runs a whole batch)`,
    ``,
    `| what | TypeScript | native | native / TypeScript |`,
    `| --- | ---: | ---: | ---: |`,
    ...micro.map((m) => `| ${m.name} | ${Math.round(m.tsPerSec)} | ${m.nativePerSec === null ? 'n/a' : Math.round(m.nativePerSec)} | ${m.nativePerSec === null ? 'n/a' : (m.nativePerSec / m.tsPerSec).toFixed(2)} |`),
    ``,
    ...manyReport(many),
    `## Load: ${LOAD.connections} connections x ${LOAD.depth} pipelined, ${LOAD.getRatio * 100}% get, ${LOAD.valueSize}-byte values, Zipf(0.99) over ${LOAD.keys} keys; ${ROUNDS} alternating rounds of ${SECONDS} s, medians`,
    ``,
    `| target | commands | ops/s | vs memcached | vs get/set | p50 batch RTT (us) | p99 batch RTT (us) | server CPU s / M ops | CPU vs memcached | server CPU share | load generator CPU share |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...load.map((r) => `| ${r.target} | ${PROTOCOL_NAMES[r.protocol]} | ${Math.round(r.opsPerSec)} | ${ratio(r.opsPerSec, mcLoad(r.protocol)?.opsPerSec)} | ${ratio(r.opsPerSec, textLoad(r.target)?.opsPerSec)} | ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${r.serverCpuPerMops.toFixed(2)} | ${ratio(r.serverCpuPerMops, mcLoad(r.protocol)?.serverCpuPerMops)} | ${(r.serverCpuShare * 100).toFixed(0)}% | ${(r.clientCpuShare * 100).toFixed(0)}% |`),
    ``,
    `The mg v/ms rows send the same load as meta commands (\`mg <key> v\`, \`ms <key> <len>\`), the binary rows as binary protocol get and set packets: "vs get/set" is that target's rate over its text rate, in the same rounds.`,
    ``,
    `## Memory: RSS growth per item after 1,000,000 items of 100 bytes (-m 1024)`,
    ``,
    `| target | bytes per item | vs memcached |`,
    `| --- | ---: | ---: |`,
    ...memory.map((r) => `| ${r.target} | ${r.rssPerItem.toFixed(1)} | ${ratio(r.rssPerItem, mcMem?.rssPerItem)} |`),
    ``,
    `The TypeScript engine's V8 heap per item beyond key and data: ${tsOverhead.toFixed(0)} bytes (the overhead -m accounts for it).`,
    ``,
    `## Miss ratio: Zipf(0.99) over 300,000 keys with a 30,000-key scan every 60,000 requests, 400-byte values, -m 64, cache-aside`,
    ``,
    `| target | gets | misses | miss ratio | vs memcached |`,
    `| --- | ---: | ---: | ---: | ---: |`,
    ...hits.map((r) => `| ${r.target} | ${r.gets} | ${r.misses} | ${r.missRatio.toFixed(4)} | ${ratio(r.missRatio, mcHit?.missRatio)} |`),
    ``,
    ...replicationReport(repl),
    ...proxyReport(proxy),
  ].join('\n');
}

(async () => {
  const t0 = Date.now();
  const loaded = loadAddon();
  if (!loaded.ok) log(`the native addon did not load (${loaded.reason}): benchmarking the TypeScript engine only`);
  const targets = availableTargets(loaded.ok);
  log(`targets: ${targets.map((t) => t.name).join(', ')}`);
  const micro = microBenchmarks(loaded.ok ? loadDevAddon() : null);
  const tsOverhead = tsItemOverhead();
  const many = await manyConnectionsBenchmark([...targets, ...threadedTargets(loaded.ok)], ROUNDS, SECONDS);
  const load = await loadBenchmark(targets);
  const memory = await memoryBenchmark(targets);
  const hits = await hitRatioBenchmark(targets);
  const engines = targets.map((t) => t.name).filter((n) => n !== 'memcached');
  const repl: ReplicationResults = {
    writes: await writeThroughput(engines, ROUNDS, SECONDS),
    fullSync: await fullSync(engines),
    lag: await replicationLag(engines, SECONDS),
  };
  const proxyLoad = await proxyThroughput(PROXY_ROUNDS, SECONDS, loaded.ok);
  const failover: FailoverRow[] = [];
  for (const e of engines) failover.push(await failoverTime(e, FAILOVER_KILLS));
  const proxy: ProxyResults = { backend: proxyLoad.backend, load: proxyLoad.rows, failover };
  const seconds = (Date.now() - t0) / 1000;
  const md = report(micro, many, load, memory, tsOverhead, hits, repl, proxy, seconds);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), JSON.stringify({ command: COMMAND, date: new Date().toISOString(), seconds, load: { ...LOAD, rounds: ROUNDS, seconds: SECONDS }, micro, manyConnections: many, loadResults: load, memory, tsItemOverhead: tsOverhead, hitRatio: hits, replication: repl, proxy }, null, 2) + '\n');
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), md);
  writeChart(join(ROOT, 'bench', 'results'));
  process.stdout.write(`\n${md}\nwritten to bench/results/latest.{json,md,svg}\n`);
})().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
