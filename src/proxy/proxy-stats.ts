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
}

function render(lines: [string, string | number][]): Buffer {
  return Buffer.from(`${lines.map(([k, v]) => `STAT ${k} ${v}\r\n`).join('')}END\r\n`, 'latin1');
}

/** `stats`: the proxy's own counters, in memcached's names where one exists. */
export function renderProxyStats(v: ProxyView): Buffer {
  const c = v.counters;
  return render([
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
    ['backends', v.nodes.length],
    ['backends_up', v.nodes.filter((n) => n.isUp).length],
  ]);
}

/** `stats proxy`: one block of lines per backend node. */
export function renderBackendStats(nodes: readonly BackendNode[], router: Router): Buffer {
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
  return render(lines);
}
