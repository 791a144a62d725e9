/**
 * `stats` through the proxy as a client expects it of one memcached: memcached's field names,
 * each summed over the serving node of every shard (counters, sizes, items), except what only
 * the proxy can say of itself (its uptime, connections, version) and the few fields a sum
 * would falsify. `stats items` and `stats slabs` are merged the same way, field by field.
 */

/** One node's STAT lines, in its order; null for a shard that did not answer. */
export type NodeStats = readonly (readonly [name: string, value: string])[] | null;

/** What the proxy itself reports in place of its nodes' figures. */
export interface ProxyOwnStats {
  pid: number;
  uptime: number;
  version: string;
  currConnections: number;
  totalConnections: number;
  maxConnections: number;
}

// Fields a sum would falsify: the largest of the nodes' is the cluster's.
const LARGEST = new Set(['hash_power_level', 'hash_is_expanding', 'pointer_size']);
// `stats items`/`slabs` fields that are ages or sizes, not counts.
const LARGEST_SUFFIX = /(?:^|:)(?:age|age_hot|age_warm|evicted_time|chunk_size|chunks_per_page)$/;
// Six decimals, as memcached prints rusage.
const DECIMAL = /^\d+\.\d{6}$/;
const INTEGER = /^\d+$/;

/** The STAT lines of a `stats` reply (text protocol), null unless it ends in END. */
export function parseStatLines(reply: Buffer): NodeStats {
  const text = reply.toString('latin1');
  if (!text.endsWith('END\r\n')) return null;
  const lines: [string, string][] = [];
  for (const line of text.slice(0, -'END\r\n'.length).split('\r\n')) {
    if (line === '') continue;
    const m = /^STAT (\S+) ?(.*)$/.exec(line);
    if (!m) return null;
    lines.push([m[1]!, m[2]!]);
  }
  return lines;
}

/** Merges the nodes' lines field by field, in the order the first answering node gave them. */
export function mergeStats(nodes: readonly NodeStats[]): [string, string][] {
  const order: string[] = [];
  const values = new Map<string, string[]>();
  for (const lines of nodes) {
    if (lines === null) continue;
    for (const [name, value] of lines) {
      const list = values.get(name);
      if (list) {
        list.push(value);
      } else {
        values.set(name, [value]);
        order.push(name);
      }
    }
  }
  return order.map((name) => [name, merge(name, values.get(name)!)]);
}

function merge(name: string, values: readonly string[]): string {
  if (values.every((v) => INTEGER.test(v))) {
    const nums = values.map(BigInt);
    if (LARGEST.has(name) || LARGEST_SUFFIX.test(name)) return String(nums.reduce((a, b) => (b > a ? b : a)));
    return String(nums.reduce((a, b) => a + b, 0n));
  }
  if (values.every((v) => DECIMAL.test(v))) {
    // Microseconds as integers, so the sum is exact.
    const us = values.reduce((sum, v) => sum + BigInt(v.replace('.', '')), 0n);
    const s = us.toString().padStart(7, '0');
    return `${s.slice(0, -6)}.${s.slice(-6)}`;
  }
  // A string (engine, a version): the first node's.
  return values[0]!;
}

/**
 * The general `stats` of the cluster: the nodes' merged lines with the proxy's own pid, uptime,
 * time, version and connection figures in their places, then how many shards answered.
 */
export function renderClusterStats(nodes: readonly NodeStats[], own: ProxyOwnStats): Buffer {
  const merged = mergeStats(nodes);
  const mine = new Map<string, string>([
    ['pid', String(own.pid)],
    ['uptime', String(own.uptime)],
    ['time', String(Math.floor(Date.now() / 1000))],
    ['version', own.version],
    ['max_connections', String(own.maxConnections)],
    ['curr_connections', String(own.currConnections)],
    ['total_connections', String(own.totalConnections)],
  ]);
  const lines: [string, string][] = merged.map(([name, value]) => [name, mine.get(name) ?? value]);
  // With no node answering, the proxy's own fields still come, in memcached's order.
  for (const [name, value] of mine) if (!merged.some(([n]) => n === name)) lines.push([name, value]);
  lines.push(['cluster_shards', String(nodes.length)], ['cluster_shards_answered', String(nodes.filter((n) => n !== null).length)]);
  return renderLines(lines);
}

/** `stats items`/`stats slabs` of the cluster: the nodes' lines merged. */
export function renderMergedGroup(nodes: readonly NodeStats[]): Buffer {
  return renderLines(mergeStats(nodes));
}

function renderLines(lines: readonly (readonly [string, string])[]): Buffer {
  return Buffer.from(`${lines.map(([k, v]) => `STAT ${k} ${v}\r\n`).join('')}END\r\n`, 'latin1');
}
