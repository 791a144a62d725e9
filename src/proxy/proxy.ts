import { lookup } from 'node:dns/promises';
import { closeSync } from 'node:fs';
import net from 'node:net';
import { serverName, type ProxySettings, type ServerAddress } from '../config/proxy-settings';
import type { NativeAddon } from '../engine/native/addon';
import type { Logger } from '../log';
import { SERVER_VERSION } from '../version';
import { Batcher } from './batcher';
import { BackupPool } from './backup';
import { BackendNode, parseReplicationReport, PROBE_REQUEST, PROBE_SHAPE, type ReplicationReport } from './backend-node';
import type { BackendConnection } from './backend-connection';
import { ClientConnection, type ClientHost } from './client';
import { Dispatcher } from './dispatcher';
import { NativeCore, type NativeCoreHost } from './native-core';
import { ReplyShape } from './reply-reader';
import { Router, type Shard } from './router';
import { renderClusterStats, renderMergedGroup } from './cluster-stats';
import { renderProxySettings, renderProxyStats, type ProxyView } from './proxy-stats';
import { ClientAuth } from './client-auth';
import { readPasswordFile } from '../config/password-file';
import { planReload, type ReloadPlan } from './config-reload';
import type { HealthSettings } from './backend-node';

/** What a reload did: applied (the generation it made), or refused (why; the running generation). */
export interface ReloadOutcome {
  ok: boolean;
  generation: number;
  message: string;
}

const STATS = Buffer.from('stats\r\n');

/**
 * The proxy: listens for memcached clients, routes their requests over the shards with ketama,
 * watches every node (request failures, timeouts, probes) and fails over inside a shard.
 */
export class Proxy implements ClientHost, NativeCoreHost {
  readonly batcher = new Batcher();
  readonly dispatcher: Dispatcher;
  readonly versionLine = Buffer.from(`VERSION ${SERVER_VERSION}\r\n`);
  readonly maxValue: number;
  /** The addon, when its C++ data path serves the clients (it loaded, and no backup pool needs every key). */
  readonly addon: NativeAddon | null;
  /** The backends of the configuration in force: the shards' nodes, then the backup pool's. */
  readonly nodes: BackendNode[] = [];
  /** -S or -Y: what clients must pass before anything else. */
  readonly clientAuth: ClientAuth | null;
  private router: Router;
  /** Nodes a reload removed, until what was in flight on them finished (or timed out). */
  private readonly draining = new Map<BackendNode, NodeJS.Timeout>();
  /** Nodes a reload removed and retired, by name: one that comes back keeps its C++ slot. */
  private readonly former = new Map<string, BackendNode>();
  /** The configuration's generation (1 at start-up, one more per reload applied), when it was loaded, reloads refused. */
  private generation = 1;
  private loadedAt = Date.now();
  private reloadFailures = 0;
  /** Reloads run one after another. */
  private reloading: Promise<unknown> = Promise.resolve();
  private server: net.Server | null = null;
  /** The C++ data path: clients connect to it; it hands those needing TypeScript over. */
  private core: NativeCore | null = null;
  private readonly clients = new Set<ClientConnection>();
  private readonly probeConnections = new Map<BackendNode, BackendConnection>();
  private readonly startedAt = Date.now();
  private nextLane = 0;
  private totalConnections = 0;
  private timer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;

  constructor(private settings: ProxySettings, readonly log: Logger, addon: NativeAddon | null) {
    this.maxValue = settings.maxValue;
    this.clientAuth = clientAuthOf(settings);
    const shards: Shard[] = settings.shards.map((group) => ({ nodes: group.map((a) => this.makeNode(a)) }));
    this.router = new Router(shards);
    const backupNodes = settings.backups.map((a) => this.makeNode(a));
    this.nodes.push(...shards.flatMap((s) => s.nodes), ...backupNodes);
    const backups = backupNodes.length === 0 ? null : new BackupPool(new Router(backupNodes.map((n) => ({ nodes: [n] }))), backupNodes);
    this.dispatcher = new Dispatcher(this.router, backups);
    // A backup pool needs every request's key and value (mirrors, fallbacks), and logins (to
    // clients or backends) are made on the TypeScript path alone.
    this.addon = typeScriptOnly(settings) === null ? addon : null;
    for (const n of this.nodes) n.onStateChange = () => this.core?.pushRoutes();
  }

  /** SIGHUP: the password file of -S or -Y is read again; one that cannot be read keeps the users it had. */
  reloadCredentials(): void {
    const auth = this.clientAuth;
    const path = this.settings.saslPwdb ?? this.settings.authFile;
    if (auth === null || path === null) return;
    try {
      const users = readPasswordFile(path, auth.kind);
      auth.setUsers(users);
      this.log.info(`${path} re-read (SIGHUP): ${users.length} users`);
    } catch (err) {
      this.log.warn(`${(err as Error).message}; the users read before stay`);
    }
  }

  /**
   * A reload (SIGHUP, POST /-/reload): `next` is the configuration read again. Servers in both
   * keep their node (connections, health, counters); new ones take requests once a probe finds
   * them answering; removed ones take no new requests and close once what was in flight on
   * them finished. Client connections are untouched; requests routed from here on use the new
   * ring. Settings only start-up can change keep their values (the log line names them).
   */
  reload(next: ProxySettings, source: string): Promise<ReloadOutcome> {
    // Whatever goes wrong is a refused reload (logged, counted), never a crash of the proxy.
    const run = this.reloading.then(() => this.applyReload(planReload(this.settings, next), source)).catch((err: unknown) => this.refuseReload((err as Error).message));
    this.reloading = run;
    return run;
  }

  /** A configuration that could not be read or used: one log line, and the running one stays. */
  refuseReload(why: string): ReloadOutcome {
    this.reloadFailures++;
    const message = `reload refused: ${why}; generation ${this.generation} keeps serving`;
    this.log.warn(`proxy: ${message}`);
    return { ok: false, generation: this.generation, message };
  }

  private async applyReload(plan: ReloadPlan, source: string): Promise<ReloadOutcome> {
    const s = plan.settings;
    // First everything that can fail, changing nothing the proxy serves with: the new nodes,
    // the ring, room for them in the C++ data path, their addresses.
    const backups = new Set(this.settings.backups.map(serverName));
    const clash = s.shards.flat().find((a) => backups.has(serverName(a)));
    if (clash) return this.refuseReload(`server ${serverName(clash)} is in the backup pool, which changes only at a restart`);
    const old = this.router.shards.flatMap((sh) => sh.nodes);
    const known = new Map([...this.former, ...[...this.draining.keys(), ...old].map((n): [string, BackendNode] => [n.name, n])]);
    const fresh: BackendNode[] = [];
    const addresses = new Map<BackendNode, ServerAddress>();
    const shards: Shard[] = s.shards.map((group) => ({
      nodes: group.map((a) => {
        const n = known.get(serverName(a)) ?? this.makeNode(a, s);
        if (!old.includes(n)) fresh.push(n);
        addresses.set(n, a);
        return n;
      }),
    }));
    const router = new Router(shards, s.shards.map((g) => g[0]!));
    const resolved = new Map<BackendNode, { host: string; port: number } | null>();
    if (this.core !== null) {
      this.core.checkRoom(fresh);
      for (const n of fresh) if (!this.draining.has(n)) resolved.set(n, await this.resolve(n));
    }

    // Then the switch, in one go on the loop: nothing from here on throws.
    for (const [n, a] of addresses) n.address = a;
    for (const n of fresh) {
      const timer = this.draining.get(n);
      if (timer !== undefined) {
        // Removed by an earlier reload, back before it closed: it was never out.
        clearTimeout(timer);
        this.draining.delete(n);
        continue;
      }
      this.former.delete(n.name);
      n.awaitFirstProbe();
      n.onStateChange = () => this.core?.pushRoutes();
      this.core?.addNode(n, resolved.get(n) ?? null);
    }
    const kept = new Set(shards.flatMap((sh) => sh.nodes));
    const removed = old.filter((n) => !kept.has(n));
    for (const n of removed) this.drain(n, Math.max(this.settings.timeoutMs, s.timeoutMs) * 2);
    for (const n of kept) if (n.peer !== null && !kept.has(n.peer)) n.peer = null;
    const backupNodes = this.nodes.filter((n) => !old.includes(n));
    this.nodes.splice(0, this.nodes.length, ...kept, ...backupNodes);
    const health = healthOf(s);
    for (const n of [...this.nodes, ...this.draining.keys()]) n.configure(health);
    this.router = router;
    this.dispatcher.setRouter(router);
    this.core?.setRouter(router);
    const timing = s.timeoutMs !== this.settings.timeoutMs || s.probeIntervalMs !== this.settings.probeIntervalMs;
    if (s.verbosity !== this.settings.verbosity) this.log.verbosity = s.verbosity;
    this.settings = s;
    if (timing && this.timer !== null) this.startTimers();
    this.generation++;
    this.loadedAt = Date.now();
    for (const n of fresh) if (!n.isUp) this.probe(n);

    const changes = [`+${plan.added.length} -${plan.removed.length} servers`, `${plan.reweighted.length} reweighted`, `${shards.length} shards`];
    const restart = plan.needRestart.length > 0 ? `; kept until a restart: ${plan.needRestart.join(', ')}` : '';
    const message = `configuration generation ${this.generation} loaded (${source}): ${changes.join(', ')}${restart}`;
    this.log.info(`proxy: ${message}`);
    return { ok: true, generation: this.generation, message };
  }

  /** A removed node: no new requests reach it; after `graceMs` (twice the request timeout) it closes. */
  private drain(node: BackendNode, graceMs: number): void {
    for (const n of this.nodes) if (n.peer === node) n.peer = null;
    node.peer = null;
    this.probeConnections.get(node)?.close();
    this.probeConnections.delete(node);
    this.draining.set(node, setTimeout(() => {
      this.draining.delete(node);
      node.close();
      this.core?.retire(node);
      this.former.set(node.name, node);
    }, graceMs));
  }

  /** Whether clients are served by the C++ data path (else every client is on the TypeScript one). */
  get native(): boolean {
    return this.core !== null;
  }

  /** Starts listening; resolves with the address clients use. */
  async start(): Promise<string> {
    const address = this.addon !== null ? await this.startNative(this.addon, await this.numericAddresses()) : await this.startTs();
    this.startTimers();
    this.probeAll();
    return address;
  }

  /** The timeout check (a quarter of the timeout, 10 to 250 ms apart) and the probes, by the settings in force. */
  private startTimers(): void {
    const s = this.settings;
    if (this.timer) clearInterval(this.timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.timer = setInterval(() => this.checkTimeouts(), Math.max(10, Math.min(250, Math.floor(s.timeoutMs / 4))));
    this.probeTimer = setInterval(() => this.probeAll(), s.probeIntervalMs);
  }

  /** The TypeScript path listens (net.Server), on TCP or on the unix socket of -f. */
  private async startTs(): Promise<string> {
    const s = this.settings;
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    server.maxConnections = s.maxClients;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (s.socketPath) server.listen(s.socketPath, resolve);
      else server.listen(s.port, s.listen, resolve);
    });
    // After start-up an accept error (EMFILE...) is logged; the listener keeps going.
    server.on('error', (err: NodeJS.ErrnoException) => this.log.warn(`proxy: accepting clients: ${err.code ?? err.message}`));
    const a = server.address();
    return typeof a === 'string' || a === null ? `unix:${s.socketPath}` : `${a.address}:${a.port}`;
  }

  /**
   * The nodes' numeric addresses for the C++ data path (libuv connects to numeric addresses
   * only), looked up once. A name that does not resolve yet is null: that node takes no
   * requests until a later look-up (at each probe) finds it.
   */
  private async numericAddresses(): Promise<({ host: string; port: number } | null)[]> {
    return Promise.all(this.nodes.map((n) => this.resolve(n)));
  }

  /** A node's numeric address, or null (logged once) while its name does not resolve. */
  private async resolve(node: BackendNode): Promise<{ host: string; port: number } | null> {
    try {
      const host = await numeric(node.address.host);
      if (node.unresolved) this.log.info(`proxy: server ${node.name} resolves to ${host}`);
      node.unresolved = false;
      return { host, port: node.address.port };
    } catch (err) {
      if (!node.unresolved) this.log.warn(`proxy: server ${node.name} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): it takes no requests until it does`);
      node.unresolved = true;
      return null;
    }
  }

  /** The C++ data path listens, on TCP or on the unix socket of -f. */
  private async startNative(addon: NativeAddon, addresses: ({ host: string; port: number } | null)[]): Promise<string> {
    const s = this.settings;
    const core = new NativeCore(addon, this.router, this, {
      maxValue: s.maxValue,
      maxClients: s.maxClients,
      connectionsPerNode: s.connectionsPerServer,
      addresses,
    });
    try {
      let address: string;
      if (s.socketPath) {
        core.listenUnix(s.socketPath);
        address = `unix:${s.socketPath}`;
      } else {
        const bound = core.listen(await numeric(s.listen), s.port);
        address = serverName(bound);
      }
      this.core = core;
      return address;
    } catch (err) {
      core.stop();
      throw err;
    }
  }

  nodeFailed(node: BackendNode, reason: 'timeout' | 'connection', message: string, replies: number): void {
    // A reply since the last failure resets the count, as on the TypeScript path.
    if (replies !== node.nativeReplies) {
      node.nativeReplies = replies;
      node.failures = 0;
    }
    node.failure(reason, message);
  }

  /** A client the C++ data path hands over: from here on the TypeScript path serves it. */
  adopt(fd: number, lane: number, binary: boolean, unread: Buffer): void {
    let socket: net.Socket;
    try {
      socket = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
    } catch (err) {
      // The client is dropped (its descriptor closed), never the proxy.
      this.log.warn(`proxy: a client could not move to the TypeScript path: ${(err as Error).message}`);
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
      return;
    }
    const client = this.track(socket, lane, binary);
    client.feed(unread);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    for (const c of this.clients) c.end();
    for (const [n, timer] of this.draining) {
      clearTimeout(timer);
      n.close();
    }
    for (const n of this.nodes) n.close();
    for (const c of this.probeConnections.values()) c.close();
    this.core?.stop();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The proxy's counters now, the C++ data path's folded in (`stats`, and the metrics endpoint). */
  view(): ProxyView {
    const native = this.core?.fold(this.dispatcher.counters) ?? { current: 0, total: 0 };
    return {
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
      // A connection handed over from the C++ path was counted there already.
      currConnections: this.clients.size + native.current,
      totalConnections: this.totalConnections + native.total,
      counters: this.dispatcher.counters,
      nodes: this.nodes,
      maxClients: this.settings.maxClients,
      generation: this.generation,
      loadedAt: Math.floor(this.loadedAt / 1000),
      reloadFailures: this.reloadFailures,
    };
  }

  /** Every backend with its shard's index, or 'backup'. */
  backends(): { node: BackendNode; shard: string }[] {
    return this.nodes.map((node) => {
      const shard = this.router.shards.findIndex((s) => s.nodes.includes(node));
      return { node, shard: shard < 0 ? 'backup' : String(shard) };
    });
  }

  /**
   * `stats` reads the cluster (every shard's serving node, merged: cluster-stats.ts), `stats
   * items` and `stats slabs` too; `stats proxy` is the proxy's own view, `stats settings` its
   * settings, `stats reset` resets the proxy's counters and the nodes'.
   */
  stats(args: string[], lane: number, done: (reply: Buffer | null) => void): void {
    const group = args.length === 1 ? args[0]! : args.length === 0 ? '' : null;
    switch (group) {
      case '': {
        const own = this.view();
        return this.dispatcher.statsAll(STATS, lane, (nodes) =>
          done(renderClusterStats(nodes, {
            pid: process.pid, uptime: own.uptime, version: SERVER_VERSION, currConnections: own.currConnections,
            totalConnections: own.totalConnections, maxConnections: own.maxClients,
          })),
        );
      }
      case 'items':
      case 'slabs':
        return this.dispatcher.statsAll(Buffer.from(`stats ${group}\r\n`), lane, (nodes) => done(renderMergedGroup(nodes)));
      case 'proxy':
        return done(renderProxyStats(this.view(), this.nodes, this.router));
      case 'settings':
        return done(renderProxySettings(this.settings));
      case 'reset':
        this.dispatcher.resetCounters();
        for (const n of this.nodes) n.resetCounters();
        this.core?.resetStats();
        return this.dispatcher.statsAll(Buffer.from('stats reset\r\n'), lane, () => done(Buffer.from('RESET\r\n')), ReplyShape.Line);
      default:
        return done(null);
    }
  }

  setVerbosity(level: number): void {
    this.log.verbosity = level;
  }

  private makeNode(a: ServerAddress, settings: ProxySettings = this.settings): BackendNode {
    return new BackendNode(a, serverName(a), healthOf(settings), this.log, this.batcher);
  }

  private accept(socket: net.Socket): void {
    this.totalConnections++;
    this.track(socket, this.nextLane++);
  }

  private track(socket: net.Socket, lane: number, binary: boolean | null = null): ClientConnection {
    const client = new ClientConnection(socket, this, lane, binary);
    this.clients.add(client);
    this.core?.setOtherClients(this.clients.size);
    socket.once('close', () => {
      this.clients.delete(client);
      this.batcher.forget(client);
      this.core?.setOtherClients(this.clients.size);
    });
    return client;
  }

  private checkTimeouts(): void {
    const now = performance.now();
    for (const n of this.nodes) n.checkTimeouts(now);
    for (const n of this.draining.keys()) n.checkTimeouts(now);
    this.core?.checkTimeouts(this.settings.timeoutMs);
    for (const c of this.probeConnections.values()) c.checkTimeout(now, this.settings.timeoutMs);
  }

  /** Asks every node for `stats replication`: liveness, sync state, and who its peer is. */
  private probeAll(): void {
    for (const node of this.nodes) this.probe(node);
  }

  private probe(node: BackendNode): void {
    if (node.unresolved && this.core !== null && !node.resolving) void this.resolveLater(node);
    if (node.probing) return;
    let conn = this.probeConnections.get(node);
    if (!conn || conn.isClosed) {
      conn = node.connect();
      this.probeConnections.set(node, conn);
    }
    node.probing = true;
    node.counters.probes++;
    const ok = conn.send(PROBE_REQUEST, {
      shape: PROBE_SHAPE,
      sentAt: performance.now(),
      deliver: (reply) => {
        node.probing = false;
        // A node a reload removed meanwhile is no longer judged.
        if (this.nodes.includes(node)) this.probed(node, parseReplicationReport(reply));
      },
      fail: () => {
        node.probing = false;
        node.counters.probeFailures++;
      },
    });
    if (!ok) node.probing = false;
  }

  /** Looks up a name that did not resolve before; once it does, the C++ path may route to it. */
  private async resolveLater(node: BackendNode): Promise<void> {
    node.resolving = true;
    const address = await this.resolve(node);
    node.resolving = false;
    if (address !== null && this.core !== null) this.core.setAddress(node, address);
  }

  private probed(node: BackendNode, report: ReplicationReport): void {
    node.report = report;
    this.discoverPeers(node);
    if (node.isUp) return;
    const why = reviveReason(report, this.router.hasStandIn(node));
    if (why !== null) node.revive(why);
  }

  /** Two nodes that name each other as replication peers stand in for each other. */
  private discoverPeers(node: BackendNode): void {
    const r = node.report;
    if (!r || r.peerNodeId === 0) return;
    for (const other of this.nodes) {
      if (other === node || other.report?.nodeId !== r.peerNodeId) continue;
      if (other.report.peerNodeId !== r.nodeId) continue;
      if (node.peer !== other) {
        node.peer = other;
        other.peer = node;
        this.log.info(`proxy: ${node.name} and ${other.name} replicate each other: each stands in for the other`);
        this.core?.pushRoutes();
      }
    }
  }
}

/** What each backend node is judged and bounded by. */
function healthOf(s: ProxySettings): HealthSettings {
  return { failureLimit: s.failureLimit, timeoutMs: s.timeoutMs, connectionsPerNode: s.connectionsPerServer, maxValue: s.maxValue, warmupMs: s.warmupMs, credentials: s.backendAuth };
}

/** -S or -Y: the users, read once at start-up (and again on SIGHUP). */
function clientAuthOf(s: ProxySettings): ClientAuth | null {
  if (s.sasl && s.saslPwdb !== null) return new ClientAuth('sasl', readPasswordFile(s.saslPwdb, 'sasl'));
  if (s.authFile !== null) return new ClientAuth('ascii', readPasswordFile(s.authFile, 'ascii'));
  return null;
}

/** Why every client is on the TypeScript path whatever the addon, or null. */
export function typeScriptOnly(s: ProxySettings): string | null {
  if (s.backups.length > 0) return 'the backup pool (-b) needs every key: TypeScript framing';
  if (s.sasl || s.authFile !== null) return 'clients log in (-S or -Y) on the TypeScript path';
  if (s.backendAuth !== null) return 'backend logins (--backend-auth) are made on the TypeScript path';
  return null;
}

/** A host's numeric address (names looked up as net.connect would). */
async function numeric(host: string): Promise<string> {
  return net.isIP(host) ? host : (await lookup(host)).address;
}

/**
 * Whether a node that was out may take traffic again: it answered, and it holds the data, as
 * far as it can know: in sync with its peer, or not replicating at all. A node whose peer is
 * gone too is the only copy left and comes back when nothing can stand in for it; a node in
 * the middle of a resync never does.
 */
function reviveReason(r: ReplicationReport, hasStandIn: boolean): string | null {
  if (!r.replicates) return 'answers; does not replicate';
  if (r.state === 'in_sync') return 'answers; in sync with its peer';
  if ((r.state === 'down' || r.state === 'connecting') && !hasStandIn) return 'answers; its peer is gone too, nothing else holds its keys';
  return null;
}
