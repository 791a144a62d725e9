import type { TargetView } from './target-view';

/** A target on one refresh: its view, or why it could not be read. */
export type TargetState = { name: string; view: TargetView | null; error: string | null };

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const rateText = (n: number | undefined): string => (n === undefined ? '-' : count(n));
const percent = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function latency(us: number): string {
  return us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us} us`;
}

/** The full screen for a terminal: a header, then a block per target; each line cut to `width`. */
export function renderScreen(targets: readonly TargetState[], clock: string, delayMs: number, width: number): string[] {
  const lines = [`memcache-ha-native top   ${clock}   every ${delayMs / 1000} s   q quits`, ''];
  for (const t of targets) {
    lines.push(...targetBlock(t), '');
  }
  return lines.map((l) => (l.length > width ? l.slice(0, Math.max(0, width)) : l));
}

function targetBlock(t: TargetState): string[] {
  const v = t.view;
  if (v === null) return [`${t.name}  down: ${t.error ?? 'no reply yet'}`];
  const r = v.rates ?? undefined;
  const head = `${t.name}  ${v.kind} ${v.version}${v.detail ? `  ${v.detail}` : ''}  up ${duration(v.uptime)}${t.error ? `  (last refresh failed: ${t.error})` : ''}`;
  const used = v.limit > 0 ? ` (${Math.round((v.bytes / v.limit) * 100)}%)` : '';
  const lines = [
    head,
    `  ops/s    ${rateText(r?.total).padStart(9)}   get ${rateText(r?.get)}  set ${rateText(r?.set)}  delete ${rateText(r?.delete)}  incr/decr ${rateText(r?.arith)}  touch ${rateText(r?.touch)}   hits ${percent(v.hitRatio)}`,
    `  memory   ${megabytes(v.bytes)} of ${megabytes(v.limit)}${used}   items ${count(v.items)}   evictions/s ${rateText(r?.evictions)}`,
    `  clients  ${count(v.connections)} of ${count(v.maxConnections)}`,
  ];
  const p = v.replication;
  if (p !== null) lines.push(`  replication  ${p.state} with ${p.peer}   lag ${count(p.lagRecords)} records, ${count(p.lagMs)} ms${p.serving ? '' : '   not serving (resyncing)'}`);
  if (v.backends !== null) {
    const w = Math.max(7, ...v.backends.map((b) => b.address.length));
    lines.push(`  ${'backend'.padEnd(w)}  shard   state  req/s       p99`);
    for (const b of v.backends) {
      lines.push(`  ${b.address.padEnd(w)}  ${b.shard.padEnd(6)}  ${b.state.padEnd(5)}  ${(b.requestsPerSec === null ? '-' : count(b.requestsPerSec)).padStart(8)}  ${latency(b.p99Us).padStart(8)}`);
    }
  }
  return lines;
}

/** One line per target per refresh, for a pipe or a file: key=value fields after the time and the target. */
export function renderLine(t: TargetState, time: string): string {
  const v = t.view;
  if (v === null) return `${time} ${t.name} down error=${JSON.stringify(t.error ?? 'no reply yet')}`;
  const r = v.rates ?? undefined;
  const plain = (n: number | undefined): string => (n === undefined ? '-' : String(Math.round(n)));
  const fields = [
    `${time} ${t.name} ${v.kind}`,
    `ops/s=${plain(r?.total)}`, `get/s=${plain(r?.get)}`, `set/s=${plain(r?.set)}`, `delete/s=${plain(r?.delete)}`,
    `hit=${percent(v.hitRatio)}`, `bytes=${v.bytes}`, `limit=${v.limit}`, `items=${v.items}`, `evictions/s=${plain(r?.evictions)}`,
    `conns=${v.connections}`,
  ];
  if (v.replication !== null) fields.push(`repl=${v.replication.state}`, `lag_records=${v.replication.lagRecords}`, `lag_ms=${v.replication.lagMs}`);
  if (v.backends !== null) fields.push(`backends=${v.backends.map((b) => `${b.address}/${b.state}/p99=${b.p99Us}us`).join(',')}`);
  return fields.join(' ');
}
