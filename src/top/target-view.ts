import type { StatsReply } from './stats-client';

/** What one refresh read from a target: `stats`, and `stats replication` or `stats proxy` where it has them. */
export interface Sample {
  /** performance.now() when the reply came. */
  at: number;
  stats: Map<string, string>;
  replication: StatsReply;
  proxy: StatsReply;
}

export interface BackendRow {
  address: string;
  shard: string;
  state: string;
  requestsPerSec: number | null;
  p99Us: number;
}

/** One target as `top` shows it: per-second rates over the last interval, and the levels now. */
export interface TargetView {
  name: string;
  /** memcached: anything that answers `stats`; node: a memcache-ha-native node; proxy: its proxy. */
  kind: 'memcached' | 'node' | 'proxy';
  version: string;
  detail: string;
  uptime: number;
  /** null on the first sample: rates need two. */
  rates: { total: number; get: number; set: number; delete: number; arith: number; touch: number; evictions: number } | null;
  /** get hits over gets, over the interval (or since start, before there is one); null without gets. */
  hitRatio: number | null;
  bytes: number;
  limit: number;
  items: number;
  connections: number;
  maxConnections: number;
  replication: { state: string; peer: string; lagRecords: number; lagMs: number; serving: boolean } | null;
  backends: BackendRow[] | null;
}

const num = (m: Map<string, string> | null | undefined, k: string): number => Number(m?.get(k) ?? 0) || 0;

/**
 * A proxy's `stats` sums the serving node of every shard: when a shard stops or starts
 * answering, another node serves one, or a reload changes the shards, the sums jump by a
 * node's whole count. Two such samples give no rates.
 */
function sameSources(now: Sample, before: Sample): boolean {
  const serving = (p: StatsReply): string =>
    p === null ? '' : [...p].filter(([k]) => /^backend:\d+:(address|state)$/.test(k)).map(([, v]) => v).join(' ');
  return ['cluster_shards', 'cluster_shards_answered'].every((k) => now.stats.get(k) === before.stats.get(k)) &&
    now.proxy?.get('config_generation') === before.proxy?.get('config_generation') &&
    serving(now.proxy) === serving(before.proxy);
}

/** The target's view from its latest sample and the one before (null: the first). */
export function viewOf(name: string, now: Sample, last: Sample | null): TargetView {
  const s = now.stats;
  const kind = s.has('cluster_shards') ? 'proxy' : s.has('engine') ? 'node' : 'memcached';
  const before = last !== null && (kind !== 'proxy' || sameSources(now, last)) ? last : null;
  const seconds = before === null ? 0 : (now.at - before.at) / 1000;
  // A counter that went down was reset (`stats reset`): the interval counts from zero.
  const rate = (m: Map<string, string> | null, was: Map<string, string> | null | undefined, keys: string[]): number => {
    const d = keys.reduce((sum, k) => sum + num(m, k), 0) - keys.reduce((sum, k) => sum + num(was, k), 0);
    return Math.max(0, d) / seconds;
  };
  let rates: TargetView['rates'] = null;
  if (before !== null && seconds > 0) {
    const b = before.stats;
    const r = (...keys: string[]): number => rate(s, b, keys);
    const arith = ['incr_hits', 'incr_misses', 'decr_hits', 'decr_misses'];
    rates = {
      get: r('cmd_get'), set: r('cmd_set'), delete: r('delete_hits', 'delete_misses'), arith: r(...arith), touch: r('cmd_touch'),
      total: r('cmd_get', 'cmd_set', 'delete_hits', 'delete_misses', ...arith, 'cmd_touch'),
      evictions: r('evictions'),
    };
  }
  const hits = num(s, 'get_hits') - (before ? num(before.stats, 'get_hits') : 0);
  const misses = num(s, 'get_misses') - (before ? num(before.stats, 'get_misses') : 0);
  const hitRatio = hits >= 0 && misses >= 0 && hits + misses > 0 ? hits / (hits + misses) : null;
  const threads = s.get('threads');
  const detail =
    kind === 'proxy' ? `${s.get('cluster_shards')} shards (${s.get('cluster_shards_answered')} answered)`
    : kind === 'node' ? `${s.get('engine')}${threads ? `, ${threads} threads` : ''}`
    : threads ? `${threads} threads` : '';
  const r = now.replication;
  const replication = r === null || !r.has('state') || r.get('peer') === 'none' ? null : {
    state: r.get('state')!, peer: r.get('peer') ?? '?', lagRecords: num(r, 'lag_records'), lagMs: num(r, 'lag_ms'), serving: r.get('serving') !== 'no',
  };
  return {
    name, kind, detail,
    version: s.get('version') ?? '?',
    uptime: num(s, 'uptime'),
    rates, hitRatio,
    bytes: num(s, 'bytes'), limit: num(s, 'limit_maxbytes'), items: num(s, 'curr_items'),
    connections: num(s, 'curr_connections'), maxConnections: num(s, 'max_connections'),
    replication,
    backends: now.proxy === null ? null : backendRows(now.proxy, last?.proxy ?? null, last === null ? 0 : (now.at - last.at) / 1000),
  };
}

/** `stats proxy`'s backend:<i>:<field> lines as rows; a backend is followed by address across refreshes (a reload renumbers them). */
function backendRows(p: Map<string, string>, was: Map<string, string> | null, seconds: number): BackendRow[] {
  const earlier = new Map<string, number>();
  if (was !== null) {
    for (const [k, v] of was) {
      const m = /^backend:(\d+):address$/.exec(k);
      if (m) earlier.set(v, num(was, `backend:${m[1]}:requests`));
    }
  }
  const rows: BackendRow[] = [];
  for (const [k, address] of p) {
    const m = /^backend:(\d+):address$/.exec(k);
    if (!m) continue;
    const at = (f: string): string => p.get(`backend:${m[1]}:${f}`) ?? '';
    const requests = Number(at('requests')) || 0;
    const before = earlier.get(address);
    rows.push({
      address, shard: at('shard'), state: at('state'),
      requestsPerSec: before === undefined || seconds <= 0 ? null : Math.max(0, requests - before) / seconds,
      p99Us: Number(at('latency_p99_us')) || 0,
    });
  }
  return rows;
}
