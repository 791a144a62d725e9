import type { ReplicationView } from '../replication/stats';
import { Exposition } from './exposition';

/** Where the node's figures come from at each scrape. */
export interface NodeMetricsSource {
  /** The general `stats` group, as the engine answers it. */
  stats(): ReadonlyMap<string, string>;
  /** `stats replication`, or null when the node does not replicate. */
  replication(): ReplicationView | null;
}

/** Project metrics carry this prefix; the memcached ones keep memcached_exporter's names. */
export const PREFIX = 'memcache_ha_';

// memcached_exporter's plain mappings: its metric name, its type, the `stats` field it reads.
const FIELDS: readonly [metric: string, type: 'counter' | 'gauge', field: string, help: string][] = [
  ['memcached_uptime_seconds', 'counter', 'uptime', 'Seconds since the server started.'],
  ['memcached_time_seconds', 'gauge', 'time', 'The server\'s clock, in UNIX seconds.'],
  ['memcached_process_user_cpu_seconds_total', 'counter', 'rusage_user', 'User CPU time of the process.'],
  ['memcached_process_system_cpu_seconds_total', 'counter', 'rusage_system', 'System CPU time of the process.'],
  ['memcached_current_bytes', 'gauge', 'bytes', 'Bytes used by stored items.'],
  ['memcached_limit_bytes', 'gauge', 'limit_maxbytes', 'Bytes the server may use for items (-m).'],
  ['memcached_current_items', 'gauge', 'curr_items', 'Items stored now.'],
  ['memcached_items_total', 'counter', 'total_items', 'Items stored since the server started.'],
  ['memcached_read_bytes_total', 'counter', 'bytes_read', 'Bytes read from clients.'],
  ['memcached_written_bytes_total', 'counter', 'bytes_written', 'Bytes sent to clients.'],
  ['memcached_current_connections', 'gauge', 'curr_connections', 'Client connections open now.'],
  ['memcached_max_connections', 'gauge', 'max_connections', 'Client connections allowed (-c).'],
  ['memcached_connections_total', 'counter', 'total_connections', 'Client connections opened since the server started.'],
  ['memcached_connections_rejected_total', 'counter', 'rejected_connections', 'Client connections refused at the -c limit.'],
  ['memcached_connections_yielded_total', 'counter', 'conn_yields', 'Times a connection gave the others a turn after -R commands in one event.'],
  ['memcached_items_evicted_total', 'counter', 'evictions', 'Live items removed to make room for new ones.'],
  ['memcached_items_reclaimed_total', 'counter', 'reclaimed', 'Stores that reused the memory of an expired item.'],
  ['memcached_item_too_large_total', 'counter', 'store_too_large', 'Stores refused for being larger than -I.'],
  ['memcached_item_no_memory_total', 'counter', 'store_no_memory', 'Stores refused for want of memory.'],
  ['memcached_lru_crawler_reclaimed_total', 'counter', 'crawler_reclaimed', 'Expired items freed by the background sweep.'],
  ['memcached_accepting_conns', 'gauge', 'accepting_conns', 'Whether the server accepts new connections.'],
];

// memcached_commands_total{command,status}: the exporter's hit and miss fields.
const COMMANDS = ['get', 'delete', 'incr', 'decr', 'cas', 'touch'] as const;

const REPLICATION_STATES = ['connecting', 'down', 'handshake', 'full_sync', 'partial_sync', 'in_sync'] as const;

/** The node's /metrics: memcached_exporter's names for what memcached has, then replication's. */
export function renderNodeMetrics(src: NodeMetricsSource): string {
  const out = new Exposition();
  const s = src.stats();
  const num = (field: string): number | null => {
    const v = s.get(field);
    return v === undefined ? null : Number(v);
  };
  out.single('memcached_up', 'gauge', 'Whether the server answered (always 1: the node serves this endpoint itself).', 1);
  out.single('memcached_version', 'gauge', 'The version the server reports, as a label.', 1, { version: s.get('version') ?? '' });
  out.family('memcached_commands_total', 'counter', 'Requests by command and outcome.');
  for (const op of COMMANDS) {
    const hits = num(`${op}_hits`);
    const misses = num(`${op}_misses`);
    if (hits !== null) out.sample('memcached_commands_total', hits, { command: op, status: 'hit' });
    if (misses !== null) out.sample('memcached_commands_total', misses, { command: op, status: 'miss' });
  }
  const badval = num('cas_badval') ?? 0;
  out.sample('memcached_commands_total', badval, { command: 'cas', status: 'badval' });
  out.sample('memcached_commands_total', num('cmd_flush') ?? 0, { command: 'flush', status: 'hit' });
  // memcached counts cas commands in cmd_set too; the exporter takes them out of set's figure.
  const cas = (num('cas_hits') ?? 0) + (num('cas_misses') ?? 0) + badval;
  out.sample('memcached_commands_total', (num('cmd_set') ?? 0) - cas, { command: 'set', status: 'hit' });
  for (const [metric, type, field, help] of FIELDS) {
    const v = num(field);
    if (v !== null && Number.isFinite(v)) out.single(metric, type, help, v);
  }
  out.single(`${PREFIX}node_info`, 'gauge', 'The node\'s engine and worker threads, as labels.', 1, {
    engine: s.get('engine') ?? '', threads: s.get('threads') ?? '1',
  });
  const r = src.replication();
  if (r !== null) renderReplication(out, r);
  return out.text();
}

function renderReplication(out: Exposition, r: ReplicationView): void {
  const p = `${PREFIX}replication_`;
  const peer = { peer: r.peer || 'none' };
  out.family(`${p}state`, 'gauge', 'The link to the peer: 1 for the state it is in.');
  for (const state of REPLICATION_STATES) out.sample(`${p}state`, r.state === state ? 1 : 0, { ...peer, state });
  out.single(`${p}serving`, 'gauge', 'Whether the node serves clients (0 while it resyncs before serving).', r.serving ? 1 : 0);
  out.single(`${p}sync_degraded`, 'gauge', 'Sync mode with no peer linked: writes are acknowledged without it.', r.syncDegraded ? 1 : 0);
  out.single(`${p}lag_records`, 'gauge', 'This node\'s records the peer has not acknowledged.', r.lag.records, peer);
  out.single(`${p}lag_seconds`, 'gauge', 'Age of the oldest record the peer has not acknowledged.', r.lag.ms / 1000, peer);
  out.single(`${p}peer_acked_offset`, 'gauge', 'How far into this node\'s stream the peer has applied.', r.peerAcked, peer);
  out.single(`${p}applied_offset`, 'gauge', 'How far into the peer\'s stream this node has applied.', r.appliedOffset, peer);
  out.single(`${p}backlog_bytes`, 'gauge', 'Bytes of own records kept for partial resyncs.', r.backlogBytes);
  out.single(`${p}backlog_limit_bytes`, 'gauge', 'The backlog\'s size (--repl-backlog).', r.backlogSize);
  const c = r.counters;
  out.family(`${p}full_syncs_total`, 'counter', 'Full syncs, by direction.')
    .sample(`${p}full_syncs_total`, c.fullSyncsSent, { direction: 'sent' })
    .sample(`${p}full_syncs_total`, c.fullSyncsReceived, { direction: 'received' });
  out.family(`${p}partial_syncs_total`, 'counter', 'Partial resyncs from the backlog, by direction.')
    .sample(`${p}partial_syncs_total`, c.partialSyncsSent, { direction: 'sent' })
    .sample(`${p}partial_syncs_total`, c.partialSyncsReceived, { direction: 'received' });
  out.family(`${p}bytes_total`, 'counter', 'Bytes over the replication link, by direction.')
    .sample(`${p}bytes_total`, c.bytesSent, { direction: 'sent' })
    .sample(`${p}bytes_total`, c.bytesReceived, { direction: 'received' });
  out.single(`${p}link_drops_total`, 'counter', 'Times the link to the peer was lost.', r.linkDrops);
  out.single(`${p}refused_links_total`, 'counter', 'Links refused by either side (a wrong secret, a third node).', r.refusedLinks);
}
