import type { Settings } from '../../../config/settings';
import { nowSeconds } from '../store/clock';
import type { Store } from '../store/store';
import type { CommandCounters, ConnectionCounters } from './counters';

/** One client connection as `stats conns` shows it (memcached's state names). */
export interface ConnectionInfo {
  id: number;
  addr: string;
  state: 'conn_parse_cmd' | 'conn_waiting' | 'conn_nread' | 'conn_swallow' | 'conn_mwrite';
  lastCommandAt: number;
}

/** What `stats` reports besides the store and the command counters. */
export interface StatsSources {
  readonly version: string;
  readonly engine: string;
  readonly startedAt: number;
  readonly connections: ConnectionCounters;
  boundPort(): number;
  resetConnectionCounters(): void;
  openConnections(): ConnectionInfo[];
}

export type StatLine = [name: string, value: string | number];

/** The counters `stats` shows after get_flushed, in memcached's order. */
const OUTCOME_COUNTERS: readonly (keyof CommandCounters)[] = [
  'delete_misses', 'delete_hits', 'incr_misses', 'incr_hits', 'decr_misses', 'decr_hits', 'cas_misses',
  'cas_hits', 'cas_badval', 'touch_hits', 'touch_misses', 'store_too_large', 'store_no_memory',
];

/**
 * The `stats` groups memcached has, with the fields that mean something for this engine, in
 * memcached's order. Null for a group memcached does not know (it answers ERROR).
 */
export function renderStats(
  group: string, settings: Settings, store: Store, c: CommandCounters, src: StatsSources,
): StatLine[] | null {
  switch (group) {
    case '': return general(settings, store, c, src);
    case 'settings': return settingsStats(settings, src);
    case 'items': return itemsStats(store);
    case 'slabs': return [['active_slabs', 0], ['total_malloced', store.bytes]];
    case 'sizes': return [['sizes_status', 'disabled']];
    case 'conns': return connsStats(settings, src);
    default: return null;
  }
}

function general(settings: Settings, store: Store, c: CommandCounters, src: StatsSources): StatLine[] {
  const now = nowSeconds();
  const usage = process.resourceUsage();
  const conn = src.connections;
  const sc = store.counters;
  return [
    ['pid', process.pid],
    ['uptime', now - src.startedAt],
    ['time', now],
    ['version', src.version],
    ['pointer_size', 64],
    ['rusage_user', seconds(usage.userCPUTime)],
    ['rusage_system', seconds(usage.systemCPUTime)],
    ['max_connections', settings.maxConnections],
    ['curr_connections', conn.currConnections],
    ['total_connections', conn.totalConnections],
    ['rejected_connections', conn.rejectedConnections],
    ['cmd_get', c.cmd_get],
    ['cmd_set', c.cmd_set],
    ['cmd_flush', c.cmd_flush],
    ['cmd_touch', c.cmd_touch],
    ['cmd_meta', c.cmd_meta],
    ['get_hits', c.get_hits],
    ['get_misses', c.get_misses],
    ['get_expired', sc.expiredOnAccess],
    ['get_flushed', sc.flushedOnAccess],
    ...OUTCOME_COUNTERS.map((name): StatLine => [name, c[name]]),
    ['auth_cmds', c.auth_cmds],
    ['auth_errors', c.auth_errors],
    ['bytes_read', conn.bytesRead],
    ['bytes_written', conn.bytesWritten],
    ['limit_maxbytes', settings.maxBytes],
    ['accepting_conns', 1],
    ['threads', 1],
    ['conn_yields', conn.connYields],
    ['bytes', store.bytes],
    ['curr_items', store.count],
    ['total_items', sc.totalItems],
    ['expired_unfetched', sc.expiredUnfetched],
    ['evicted_unfetched', sc.evictedUnfetched],
    ['evictions', sc.evictions],
    ['reclaimed', sc.reclaimed],
    ['crawler_reclaimed', sc.crawlerReclaimed],
    ['engine', src.engine],
  ];
}

function settingsStats(s: Settings, src: StatsSources): StatLine[] {
  return [
    ['maxbytes', s.maxBytes],
    ['maxconns', s.maxConnections],
    ['tcpport', src.boundPort()],
    ['udpport', 0],
    ['inter', s.listen],
    ['verbosity', s.verbosity],
    ['evictions', s.evictions ? 'on' : 'off'],
    ['domain_socket', 'NULL'],
    ['shutdown_command', s.shutdownEnabled ? 'yes' : 'no'],
    ['num_threads', s.threads],
    ['reqs_per_event', s.reqsPerEvent],
    ['cas_enabled', s.casEnabled ? 'yes' : 'no'],
    ['binding_protocol', s.protocol === 'auto' ? 'auto-negotiate' : s.protocol],
    ['auth_enabled_sasl', s.sasl ? 'yes' : 'no'],
    ['auth_enabled_ascii', s.authFile ?? 'no'],
    ['item_size_max', s.itemSizeMax],
    ['flush_enabled', s.flushEnabled ? 'yes' : 'no'],
    ['eviction_policy', 'sieve'],
    ['engine', src.engine],
  ];
}

/** memcached numbers connections by file descriptor; here the listener is 0 and clients count from 1. */
function connsStats(settings: Settings, src: StatsSources): StatLine[] {
  const now = nowSeconds();
  const listen = `tcp:${settings.listen}:${src.boundPort()}`;
  const lines: StatLine[] = [['0:addr', listen], ['0:state', 'conn_listening'], ['0:secs_since_last_cmd', now - src.startedAt]];
  for (const c of src.openConnections()) {
    lines.push([`${c.id}:addr`, c.addr], [`${c.id}:listen_addr`, listen], [`${c.id}:state`, c.state], [`${c.id}:secs_since_last_cmd`, now - c.lastCommandAt]);
  }
  return lines;
}

function itemsStats(store: Store): StatLine[] {
  if (store.count === 0) return [];
  const sc = store.counters;
  return [
    ['items:1:number', store.count],
    ['items:1:evicted', sc.evictions],
    ['items:1:evicted_unfetched', sc.evictedUnfetched],
    ['items:1:expired_unfetched', sc.expiredUnfetched],
    ['items:1:reclaimed', sc.reclaimed],
    ['items:1:crawler_reclaimed', sc.crawlerReclaimed],
  ];
}

function seconds(micros: number): string {
  return (micros / 1e6).toFixed(6);
}
