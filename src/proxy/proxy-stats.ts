import type { ProxySettings } from '../config/proxy-settings';
import { SERVER_VERSION } from '../version';
import type { BackendNode } from './backend-node';
import type { ProxyCounters } from './dispatcher';
import type { Router } from './router';

export interface ProxyView {
  uptime: number;
  currConnections: number;
  totalConnections: number;
  maxClients: number;
  counters: ProxyCounters;
  nodes: readonly BackendNode[];
  /** The configuration's generation (1 at start-up, one more per reload applied). */
  generation: number;
  /** When that generation was loaded (unix seconds). */
  loadedAt: number;
  /** Reloads refused (a file that did not parse, or could not be used). */
  reloadFailures: number;
}

function render(lines: [string, string | number][]): Buffer {
  return Buffer.from(`${lines.map(([k, v]) => `STAT ${k} ${v}\r\n`).join('')}END\r\n`, 'latin1');
}

/**
 * `stats proxy`: the proxy's own counters (in memcached's names where one exists), then one
 * block of lines per backend node.
 */
export function renderProxyStats(v: ProxyView, nodes: readonly BackendNode[], router: Router): Buffer {
  return render([...ownLines(v), ...backendLines(nodes, router)]);
}

/** `stats settings`: the proxy's settings, in memcached's names where one exists. */
export function renderProxySettings(s: ProxySettings): Buffer {
  return render([
    ['maxconns', s.maxClients],
    ['tcpport', s.socketPath ? 0 : s.port],
    ['inter', s.listen],
    ['verbosity', s.verbosity],
    ['domain_socket', s.socketPath ?? 'NULL'],
    ['binding_protocol', s.sasl ? 'binary' : s.authFile ? 'ascii' : 'auto-negotiate'],
    ['auth_enabled_sasl', s.sasl ? 'yes' : 'no'],
    ['auth_enabled_ascii', s.authFile ?? 'no'],
    ['item_size_max', s.maxValue],
    ['servers', s.shards.length],
    ['backups', s.backups.length],
    ['connections_per_server', s.connectionsPerServer],
    ['timeout_ms', s.timeoutMs],
    ['probe_interval_ms', s.probeIntervalMs],
    ['failure_limit', s.failureLimit],
  ]);
}

function ownLines(v: ProxyView): [string, string | number][] {
  const c = v.counters;
  return [
    ['pid', process.pid],
    ['uptime', v.uptime],
    ['time', Math.floor(Date.now() / 1000)],
    ['version', SERVER_VERSION],
    ['role', 'proxy'],
    ['max_connections', v.maxClients],
    ['curr_connections', v.currConnections],
    ['total_connections', v.totalConnections],
    ['cmd_get', c.cmdGet],
    ['cmd_set', c.cmdSet],
    ['cmd_touch', c.cmdTouch],
    ['cmd_flush', c.cmdFlush],
    ['requests', c.requests],
    ['forwarded', c.forwarded],
    ['server_errors', c.serverErrors],
    ['failovers', c.failovers],
    ['retries', c.retries],
    ['client_handoffs', c.handoffs],
    ['config_generation', v.generation],
    ['config_loaded', v.loadedAt],
    ['config_reload_failures', v.reloadFailures],
    ['backends', v.nodes.length],
    ['backends_up', v.nodes.filter((n) => n.isUp).length],
  ];
}

function backendLines(nodes: readonly BackendNode[], router: Router): [string, string | number][] {
  const lines: [string, string | number][] = [];
  nodes.forEach((n, i) => {
    const shard = router.shards.findIndex((s) => s.nodes.includes(n));
    const p = `backend:${i}:`;
    const c = n.counters;
    lines.push(
      [`${p}address`, n.name],
      [`${p}shard`, shard < 0 ? 'backup' : shard],
      [`${p}state`, n.state],
      [`${p}replication`, n.report === null ? 'unknown' : n.report.replicates ? n.report.state : 'none'],
      [`${p}peer`, n.peer?.name ?? 'none'],
      [`${p}requests`, c.requests],
      [`${p}errors`, c.errors],
      [`${p}timeouts`, c.timeouts],
      [`${p}failovers`, c.failovers],
      [`${p}outages`, c.outages],
      [`${p}probes`, c.probes],
      [`${p}probe_failures`, c.probeFailures],
      [`${p}latency_p50_us`, n.latency.quantileUs(0.5)],
      [`${p}latency_p99_us`, n.latency.quantileUs(0.99)],
    );
  });
  return lines;
}
