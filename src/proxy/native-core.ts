import type { NativeAddon, ProxyCoreHandle } from '../engine/native/addon';
import type { BackendNode } from './backend-node';
import type { ProxyCounters } from './dispatcher';
import type { Router } from './router';

/** The layout of ProxyCore.stats() (native/src/proxy_core.cc). */
const CURR_CONNECTIONS = 0;
const TOTAL_CONNECTIONS = 1;
const PROXY_COUNTERS: readonly (keyof ProxyCounters)[] = ['requests', 'forwarded', 'serverErrors', 'failovers', 'retries', 'cmdGet', 'cmdSet', 'cmdTouch', 'handoffs'];
const FIRST_COUNTER = 2;
const PER_NODE = 2 + 32;

const EVENT_FAILURE = 1;
const EVENT_HANDOFF = 2;

export interface NativeCoreHost {
  readonly nodes: readonly BackendNode[];
  /** A node failed on the C++ path: `replies` is how many replies it sent there so far. */
  nodeFailed(node: BackendNode, reason: 'timeout' | 'connection', message: string, replies: number): void;
  /** A client connection for the TypeScript path: its descriptor, lane and unread input. */
  adopt(fd: number, lane: number, unread: Buffer): void;
}

/**
 * The proxy's C++ data path, as the TypeScript control plane sees it: the routing table goes
 * in whenever a node's state changes; failures and client connections that need the
 * TypeScript path come out; its counters are folded into the proxy's `stats`.
 */
export class NativeCore {
  private readonly handle: ProxyCoreHandle;
  private readonly index: Map<BackendNode, number>;
  /** stats() as last folded into the TypeScript counters. */
  private folded: Float64Array | null = null;

  constructor(
    addon: NativeAddon,
    private readonly router: Router,
    private readonly host: NativeCoreHost,
    settings: { maxValue: number; maxClients: number; connectionsPerNode: number; addresses: { host: string; port: number }[] },
  ) {
    this.index = new Map(host.nodes.map((n, i) => [n, i]));
    const { values } = router.table(this.index);
    this.handle = new addon.ProxyCore(
      { maxValue: settings.maxValue, maxClients: settings.maxClients, connectionsPerNode: settings.connectionsPerNode, nodes: settings.addresses, points: values },
      (type, a, b, detail) => this.onEvent(type, a, b, detail),
    );
    this.pushRoutes();
  }

  listen(host: string, port: number): { host: string; port: number } {
    return this.handle.listen(host, port);
  }

  /** The nodes' states changed (out, back, a peer found): the C++ side routes by them from now on. */
  pushRoutes(): void {
    const { candidates, home } = this.router.table(this.index);
    this.handle.setRoutes(candidates, home, Uint8Array.from(this.host.nodes, (n) => (n.isUp ? 1 : 0)));
  }

  checkTimeouts(timeoutMs: number): void {
    this.handle.checkTimeouts(timeoutMs);
  }

  setOtherClients(n: number): void {
    this.handle.setOtherClients(n);
  }

  /** Adds what the C++ side counted since the last call to the proxy's and nodes' counters; returns its connection counts. */
  fold(counters: ProxyCounters): { current: number; total: number } {
    const now = this.handle.stats();
    const before = this.folded ?? new Float64Array(now.length);
    PROXY_COUNTERS.forEach((name, i) => (counters[name] += now[FIRST_COUNTER + i]! - before[FIRST_COUNTER + i]!));
    const base = FIRST_COUNTER + PROXY_COUNTERS.length;
    this.host.nodes.forEach((n, i) => {
      const at = base + i * PER_NODE;
      n.counters.requests += now[at]! - before[at]!;
      n.counters.failovers += now[at + 1]! - before[at + 1]!;
      const delta = new Float64Array(32);
      for (let b = 0; b < 32; b++) delta[b] = now[at + 2 + b]! - before[at + 2 + b]!;
      n.latency.addCounts(delta, 0);
    });
    this.folded = now;
    return { current: now[CURR_CONNECTIONS]!, total: now[TOTAL_CONNECTIONS]! };
  }

  resetStats(): void {
    this.handle.resetStats();
    this.folded = null;
  }

  stop(): void {
    this.handle.stop();
  }

  private onEvent(type: number, a: number, b: number, detail: [string, number] | Buffer): void {
    if (type === EVENT_FAILURE && Array.isArray(detail)) {
      const node = this.host.nodes[a];
      if (node) this.host.nodeFailed(node, b === 1 ? 'timeout' : 'connection', detail[0], detail[1]);
    } else if (type === EVENT_HANDOFF && Buffer.isBuffer(detail)) {
      this.host.adopt(a, b, detail);
    }
  }
}
