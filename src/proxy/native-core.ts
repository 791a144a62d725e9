import type { NativeAddon, ProxyCoreClass, ProxyCoreHandle } from '../engine/native/addon';
import type { BackendNode } from './backend-node';
import { OUTPUT_HIGH_WATER } from '../net-limits';
import { MAX_COMMAND_LINE, MAX_COMPLETE_LINE, MAX_GET_LINE } from '../protocol/line-limits';
import { ProxyCounters } from './dispatcher';
import { BACKEND_SEND_HIGH_WATER, MAX_IN_FLIGHT, MAX_TRIES } from './limits';
import { CANDIDATES, type Router } from './router';

/** Node indexes are int16 in the C++ routing table. */
const MAX_NODES = 32767;

/** The C++ path's connection counters: the other names of ProxyCore.counterNames are ProxyCounters'. */
const CONNECTION_COUNTERS = ['currConnections', 'totalConnections'];

export interface NativeCoreHost {
  readonly nodes: readonly BackendNode[];
  /** A node failed on the C++ path: `replies` is how many replies it sent there so far. */
  nodeFailed(node: BackendNode, reason: 'timeout' | 'connection', message: string, replies: number): void;
  /** A client connection for the TypeScript path: its descriptor, lane, protocol and unread input. */
  adopt(fd: number, lane: number, binary: boolean, unread: Buffer): void;
}

/**
 * The proxy's C++ data path, as the TypeScript control plane sees it: the routing table goes
 * in whenever a node's state changes; failures and client connections that need the
 * TypeScript path come out; its counters are folded into the proxy's `stats`.
 */
export class NativeCore {
  private readonly handle: ProxyCoreHandle;
  private readonly layout: ProxyCoreClass;
  /** Per counter of stats(): the ProxyCounters field it adds to, null for the connection counts. */
  private readonly fields: (keyof ProxyCounters | null)[];
  /** Where stats() has the current and total connection counts. */
  private readonly connectionsAt: { current: number; total: number };
  /** The C++ side's nodes by index: the proxy's at start-up, then each a reload added (never fewer). */
  private readonly slots: BackendNode[];
  private readonly index: Map<BackendNode, number>;
  /** Nodes a reload removed, once what was in flight on them finished: the C++ side closes their connections. */
  private readonly retired = new Set<BackendNode>();
  /** stats() as last folded into the TypeScript counters. */
  private folded: Float64Array | null = null;

  constructor(
    addon: NativeAddon,
    private router: Router,
    private readonly host: NativeCoreHost,
    settings: { maxValue: number; maxClients: number; connectionsPerNode: number; addresses: ({ host: string; port: number } | null)[] },
  ) {
    this.slots = [...host.nodes];
    this.index = new Map(this.slots.map((n, i) => [n, i]));
    const { values } = router.table(this.index);
    this.layout = addon.ProxyCore;
    const known = new Set(Object.keys(new ProxyCounters()));
    this.fields = this.layout.counterNames.map((name) => {
      if (CONNECTION_COUNTERS.includes(name)) return null;
      if (!known.has(name)) throw new Error(`the addon counts ${name}, which the proxy does not know`);
      return name as keyof ProxyCounters;
    });
    const names = this.layout.counterNames;
    this.connectionsAt = { current: names.indexOf('currConnections'), total: names.indexOf('totalConnections') };
    const limits = {
      maxCommandLine: MAX_COMMAND_LINE, maxCompleteLine: MAX_COMPLETE_LINE, maxGetLine: MAX_GET_LINE,
      maxInFlight: MAX_IN_FLIGHT, outputHighWater: OUTPUT_HIGH_WATER, backendMaxUnsent: BACKEND_SEND_HIGH_WATER,
      maxTries: MAX_TRIES, candidates: CANDIDATES,
    };
    this.handle = new addon.ProxyCore(
      { maxValue: settings.maxValue, maxClients: settings.maxClients, connectionsPerNode: settings.connectionsPerNode, limits, nodes: settings.addresses.map((a) => a ?? { host: null, port: 0 }), points: values },
      (type, a, b, detail, binary) => this.onEvent(type, a, b, detail, binary),
    );
    this.pushRoutes();
  }

  listen(host: string, port: number): { host: string; port: number } {
    return this.handle.listen(host, port);
  }

  /** Listens on a unix socket (-f); throws an Error with a libuv `code`. */
  listenUnix(path: string): void {
    this.handle.listenUnix(path);
  }

  /** A node whose name did not resolve at start-up now has a numeric address: it may take requests. */
  setAddress(node: BackendNode, address: { host: string; port: number }): void {
    if (!this.index.has(node)) return;
    this.handle.setAddress(this.index.get(node)!, address);
    this.pushRoutes();
  }

  /** A server a reload added (address null: its name does not resolve yet). */
  addNode(node: BackendNode, address: { host: string; port: number } | null): void {
    if (this.index.has(node)) {
      // Removed by an earlier reload and back before it was retired: the same slot serves again.
      this.retired.delete(node);
      return;
    }
    this.index.set(node, this.handle.addNode(address ?? { host: null, port: 0 }));
    this.slots.push(node);
  }

  /** Throws unless the C++ side has room for `nodes` (those it lacks): node indexes are int16 there. */
  checkRoom(nodes: readonly BackendNode[]): void {
    const more = nodes.filter((n) => !this.index.has(n)).length;
    if (this.slots.length + more > MAX_NODES) throw new RangeError(`${this.slots.length + more} servers over the proxy's life: ${MAX_NODES} at most`);
  }

  /** A reload's routing: new ring points and candidates, in force for every request routed from now on. */
  setRouter(router: Router): void {
    // The table goes in first: a router the C++ side did not take is never used for a later push.
    this.push(router, true);
    this.router = router;
  }

  /** A node a reload removed has nothing left in flight: its connections close. */
  retire(node: BackendNode): void {
    this.retired.add(node);
    this.pushRoutes();
  }

  /** The nodes' states changed (out, back, a peer found): the C++ side routes by them from now on. */
  pushRoutes(): void {
    this.push(this.router, false);
  }

  private push(router: Router, ring: boolean): void {
    const { values, candidates, home } = router.table(this.index);
    const up = Uint8Array.from(this.slots, (n) => (n.isUp && !n.unresolved && !this.retired.has(n) ? 1 : 0));
    this.handle.setRoutes(candidates, home, up, ring ? values : undefined);
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
    this.fields.forEach((field, i) => {
      if (field !== null) counters[field] += now[i]! - before[i]!;
    });
    const layout = this.layout.nodeCounters;
    const base = this.fields.length;
    // A node added since the last fold is past the end of `before`: it had counted nothing.
    const was = (i: number): number => before[i] ?? 0;
    this.slots.forEach((n, i) => {
      const at = base + i * layout.size;
      n.counters.requests += now[at + layout.requests]! - was(at + layout.requests);
      n.counters.failovers += now[at + layout.failovers]! - was(at + layout.failovers);
      const delta = new Float64Array(layout.latencyBuckets);
      for (let b = 0; b < layout.latencyBuckets; b++) delta[b] = now[at + layout.latency + b]! - was(at + layout.latency + b);
      n.latency.addCounts(delta, 0, now[at + layout.latencySumUs]! - was(at + layout.latencySumUs));
    });
    this.folded = now;
    return { current: now[this.connectionsAt.current]!, total: now[this.connectionsAt.total]! };
  }

  resetStats(): void {
    this.handle.resetStats();
    this.folded = null;
  }

  stop(): void {
    this.handle.stop();
  }

  private onEvent(type: number, a: number, b: number, detail: [string, number] | Buffer, binary: boolean): void {
    if (type === this.layout.events.failure && Array.isArray(detail)) {
      const node = this.slots[a];
      if (node) this.host.nodeFailed(node, b === 1 ? 'timeout' : 'connection', detail[0], detail[1]);
    } else if (type === this.layout.events.handoff && Buffer.isBuffer(detail)) {
      this.host.adopt(a, b, binary, detail);
    }
  }
}
