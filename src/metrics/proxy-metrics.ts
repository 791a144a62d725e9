import type { BackendNode } from '../proxy/backend-node';
import { LatencyHistogram } from '../proxy/latency';
import type { ProxyView } from '../proxy/proxy-stats';
import { SERVER_VERSION } from '../version';
import { Exposition } from './exposition';
import { PREFIX } from './node-metrics';

/** One backend as the proxy's metrics label it. */
export interface BackendView {
  node: BackendNode;
  /** Its shard's index, or 'backup'. */
  shard: string;
}

const P = `${PREFIX}proxy_`;

/** The proxy's /metrics: its own counters, then per backend node, under the project prefix. */
export function renderProxyMetrics(v: ProxyView, backends: readonly BackendView[]): string {
  const out = new Exposition();
  const c = v.counters;
  out.single(`${P}info`, 'gauge', 'The proxy\'s version, as a label.', 1, { version: SERVER_VERSION });
  out.single(`${P}uptime_seconds`, 'counter', 'Seconds since the proxy started.', v.uptime);
  out.single(`${P}current_connections`, 'gauge', 'Client connections open now.', v.currConnections);
  out.single(`${P}max_connections`, 'gauge', 'Client connections allowed.', v.maxClients);
  out.single(`${P}connections_total`, 'counter', 'Client connections opened since the proxy started.', v.totalConnections);
  out.family(`${P}commands_total`, 'counter', 'Client requests by command (text and meta reads and writes, as memcached\'s cmd_ counters).')
    .sample(`${P}commands_total`, c.cmdGet, { command: 'get' })
    .sample(`${P}commands_total`, c.cmdSet, { command: 'set' })
    .sample(`${P}commands_total`, c.cmdTouch, { command: 'touch' })
    .sample(`${P}commands_total`, c.cmdFlush, { command: 'flush' });
  out.single(`${P}requests_total`, 'counter', 'Client requests.', c.requests);
  out.single(`${P}forwarded_total`, 'counter', 'Requests sent on to a backend.', c.forwarded);
  out.single(`${P}server_errors_total`, 'counter', 'Requests answered SERVER_ERROR because no backend could take them.', c.serverErrors);
  out.single(`${P}failovers_total`, 'counter', 'Requests sent to a shard\'s replica because its first node was out.', c.failovers);
  out.single(`${P}retries_total`, 'counter', 'Requests sent again after a backend failed under them.', c.retries);
  out.single(`${P}config_generation`, 'gauge', 'The configuration\'s generation: 1 at start-up, one more per reload applied.', v.generation);
  out.single(`${P}config_loaded_timestamp_seconds`, 'gauge', 'When the configuration in force was loaded (unix time).', v.loadedAt);
  out.single(`${P}config_reload_failures_total`, 'counter', 'Reloads refused (the file did not parse or could not be used).', v.reloadFailures);
  out.single(`${P}backends`, 'gauge', 'Backend nodes configured.', backends.length);
  out.single(`${P}backends_up`, 'gauge', 'Backend nodes taking requests.', backends.filter((b) => b.node.isUp).length);

  const label = (b: BackendView): Record<string, string> => ({ backend: b.node.name, shard: b.shard });
  const perBackend = (name: string, type: 'counter' | 'gauge', help: string, value: (n: BackendNode) => number): void => {
    out.family(`${P}${name}`, type, help);
    for (const b of backends) out.sample(`${P}${name}`, value(b.node), label(b));
  };
  perBackend('backend_up', 'gauge', 'Whether the backend takes requests (0: out, until a probe finds it answering and in sync).', (n) => (n.isUp ? 1 : 0));
  perBackend('backend_requests_total', 'counter', 'Requests sent to the backend.', (n) => n.counters.requests);
  perBackend('backend_errors_total', 'counter', 'Connection errors and bad replies from the backend.', (n) => n.counters.errors);
  perBackend('backend_timeouts_total', 'counter', 'Requests the backend did not answer in time.', (n) => n.counters.timeouts);
  perBackend('backend_failovers_total', 'counter', 'Requests for this backend served by its replica instead.', (n) => n.counters.failovers);
  perBackend('backend_outages_total', 'counter', 'Times the backend was taken out.', (n) => n.counters.outages);
  perBackend('backend_probes_total', 'counter', 'Health probes sent to the backend.', (n) => n.counters.probes);
  perBackend('backend_probe_failures_total', 'counter', 'Health probes that failed.', (n) => n.counters.probeFailures);

  const h = `${P}backend_latency_seconds`;
  out.family(h, 'histogram', 'Time from sending a request to the backend to its reply.');
  for (const b of backends) {
    const snap = b.node.latency.snapshot();
    let cumulative = 0;
    for (let i = 0; i < LatencyHistogram.BUCKETS; i++) {
      cumulative += snap.buckets[i]!;
      out.sample(`${h}_bucket`, cumulative, { ...label(b), le: String(2 ** i / 1e6) });
    }
    out.sample(`${h}_bucket`, snap.count, { ...label(b), le: '+Inf' });
    out.sample(`${h}_sum`, snap.sumUs / 1e6, label(b));
    out.sample(`${h}_count`, snap.count, label(b));
  }
  return out.text();
}
