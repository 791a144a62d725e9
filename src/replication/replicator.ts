import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { ReplicationSettings } from '../config/settings';
import type { ReplicaPort } from '../engine/replica';
import type { Logger } from '../log';
import { Backlog } from './backlog';
import type { Hello } from './handshake';
import { Link, type LinkCounters } from './link';
import { mb } from './sync-progress';
import { renderReplicationStats } from './stats';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** After a refusal (a third node, a wrong secret) try much less often. */
const REFUSED_BACKOFF_MS = 10_000;
const CONNECT_TIMEOUT_MS = 2000;
const LISTEN_RETRY_MS = 1000;
const PROGRESS_LOG_MS = 1000;
const STATS_REFRESH_MS = 100;
/** Handshakes in progress at once: an open port must not let strangers hold memory. */
const MAX_PENDING_LINKS = 8;
/** Async mode: this node's records wait at most this long before they are drained and sent. */
const BATCH_MS = 1;

export type Role = 'listener' | 'connector' | 'none';

/**
 * Replication with one peer. Listens on -X whenever the port is free and keeps dialling the
 * peer (-x) with backoff while no link is up, so two nodes on one host sharing -X work and the
 * survivor takes the port over. Moves this node's records (engine log -> backlog -> link) and
 * the peer's (link -> engine), and decides when the node may serve clients.
 */
export class Replicator {
  readonly runId = randomBytes(8).toString('hex');
  readonly backlog: Backlog;
  readonly counters: LinkCounters = {
    bytesSent: 0, bytesReceived: 0, fullSyncsSent: 0, fullSyncsReceived: 0, partialSyncsSent: 0, partialSyncsReceived: 0,
  };
  linkDrops = 0;
  refusedLinks = 0;
  private listener: net.Server | null = null;
  private link: Link | null = null;
  private readonly pending = new Set<Link>();
  /** The peer run whose stream this node holds, how far, and whether a sync of it completed. */
  private stream: { runId: string; applied: number; complete: boolean } | null = null;
  private dialTimer: NodeJS.Timeout | null = null;
  private listenTimer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private backoff = BACKOFF_MIN_MS;
  private dialing = false;
  /** Dialling the peer address reached this very node (it holds -X on the same host). */
  private dialReachesSelf = false;
  private refusedReason: string | null = null;
  private stopped = false;
  private serving = false;
  private openGate: (() => void) | null = null;
  private syncDegradedLogged = false;
  private batchTimer: NodeJS.Timeout | null = null;

  /** A frame holds what the peer's writes of one loop turn produced: bounded, with room for two largest items. */
  readonly maxFrame: number;

  constructor(
    private readonly settings: ReplicationSettings,
    readonly replica: ReplicaPort,
    readonly nodeId: number,
    readonly log: Logger,
    itemSizeMax: number,
  ) {
    this.maxFrame = 256 * 1024 * 1024 + 2 * itemSizeMax;
    this.backlog = new Backlog(settings.backlogBytes);
    replica.onRecords(() => this.onRecords());
  }

  get promptAcks(): boolean {
    return this.settings.mode === 'sync';
  }

  get secret(): string | null {
    return this.settings.secret;
  }

  get role(): Role {
    if (this.listener) return 'listener';
    return this.link?.outbound ? 'connector' : 'none';
  }

  /**
   * Starts listening and dialling. Resolves when the node may accept clients: in sync with the
   * peer, or no peer to be found, or at once with --serve-stale.
   */
  async start(): Promise<void> {
    // Nothing else holds the event loop open while a replica waits for its sync.
    const keepAlive = setInterval(() => undefined, 60_000);
    const ready = new Promise<void>((resolve) => {
      this.openGate = () => {
        clearInterval(keepAlive);
        resolve();
      };
    });
    await this.tryListen();
    this.statsTimer = setInterval(() => this.publishStats(), STATS_REFRESH_MS);
    this.statsTimer.unref();
    this.progressTimer = setInterval(() => this.logProgress(), PROGRESS_LOG_MS);
    this.progressTimer.unref();
    if (this.settings.serveStale) this.allowServing('--serve-stale');
    else if (this.settings.peer === null) this.allowServing('no -x peer to sync from');
    this.dial();
    this.publishStats();
    return ready;
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.dialTimer, this.listenTimer, this.progressTimer, this.statsTimer, this.batchTimer]) if (t) clearTimeout(t);
    this.listener?.close();
    this.link?.close('node stopping');
    for (const l of [...this.pending]) l.close('node stopping');
  }

  // --- LinkHost ---

  resumeFor(): Hello['resume'] {
    const s = this.stream;
    return s && s.complete ? { runId: s.runId, offset: s.applied } : null;
  }

  drainNow(): void {
    this.backlog.take(this.replica, Date.now());
  }

  established(link: Link): string | null {
    this.pending.delete(link);
    const peerId = link.peerId!;
    const current = this.link;
    // A link that closes leaves `this.link` at once (closed() below): `current` is live.
    if (current) {
      if (current.peerId !== peerId) {
        this.refusedLinks++;
        this.publishStats();
        this.log.warn(
          `replication: refused node ${peerId} from ${link.address}: this node already replicates with ${current.describePeer()} (a pair has two nodes)`,
        );
        return `this node already replicates with node ${current.peerId}: a third node is refused`;
      }
      // The same peer twice (both dialled, or it reconnected before we noticed the old link die):
      // both ends keep the link dialled by the lower node id, or the newer one.
      const dialer = (l: Link): number => (l.outbound ? this.nodeId : peerId);
      const keep = Math.min(this.nodeId, peerId);
      if (dialer(current) === keep && dialer(link) !== keep) return 'a link to this peer is already up';
      current.close('replaced by a newer link to the same peer');
    }
    this.link = link;
    this.refusedReason = null;
    this.backoff = BACKOFF_MIN_MS;
    if (this.stream && this.stream.runId !== link.peer!.runId) this.stream = null;
    this.publishStats();
    return null;
  }

  streamStarted(_link: Link, runId: string, offset: number, full: boolean): void {
    if (full || !this.stream || this.stream.runId !== runId) this.stream = { runId, applied: offset, complete: false };
    this.publishStats();
  }

  streamApplied(offset: number): void {
    if (this.stream) this.stream.applied = offset;
  }

  streamComplete(link: Link): void {
    if (this.stream) this.stream.complete = true;
    this.allowServing(`in sync with ${link.describePeer()}`);
    this.publishStats();
  }

  acknowledged(link: Link, offset: number): void {
    if (link !== this.link || this.settings.mode !== 'sync') return;
    if (this.syncDegradedLogged) {
      this.syncDegradedLogged = false;
      this.log.warn('replication: sync mode restored: replies wait for the peer again');
    }
    this.replica.setAcknowledged(offset);
  }

  refusedBy(link: Link, reason: string): void {
    this.log.error(`replication: ${link.describePeer()} refused this node: ${reason}`);
    this.refused(reason);
  }

  /** No link with this peer (wrong secret, a third node): back off, and serve alone. */
  refused(reason: string): void {
    this.refusedLinks++;
    this.refusedReason = reason;
    this.publishStats();
    this.allowServing(`no link with the peer: ${reason}`);
  }

  closed(link: Link, why: string): void {
    this.pending.delete(link);
    if (link === this.link) {
      this.link = null;
      if (link.wasRunning) {
        this.linkDrops++;
        this.log.warn(`replication: link with ${link.describePeer()} down: ${why}`);
        if (this.settings.mode === 'sync') {
          this.replica.setAcknowledged(null);
          this.syncDegradedLogged = true;
          this.log.warn('replication: sync mode degraded to async while the peer is away');
        }
      }
      this.publishStats();
    } else {
      this.log.debug(`replication: connection with ${link.describePeer()} closed: ${why}`);
    }
    if (why === 'connected to itself') this.dialReachesSelf = true;
    // A peer that takes the connection but never completes the handshake (stopped, hung) is no
    // peer to sync from: waiting for it would keep this node from serving indefinitely.
    else if (!link.wasRunning && link.outbound) this.allowServing(`peer ${link.address} did not complete the handshake (${why})`);
    if (this.stopped) return;
    if (!this.listener) this.scheduleListen(0);
    this.scheduleDial();
  }

  // --- records ---

  /**
   * Sync mode sends at once. Async mode drains and sends at most once per BATCH_MS: one drain
   * and one socket write per millisecond instead of one per loop turn, which under load halved
   * the writing node's throughput and woke the peer tens of thousands of times a second.
   */
  private onRecords(): void {
    if (this.settings.mode === 'sync') return this.sendRecords();
    if (this.batchTimer) return;
    this.batchTimer = setTimeout(() => this.sendRecords(), BATCH_MS);
  }

  private sendRecords(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    this.drainNow();
    this.link?.pump();
  }

  // --- roles ---

  private tryListen(): Promise<void> {
    if (this.listener || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const server = net.createServer((socket) => this.accept(socket));
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRINUSE') this.log.warn(`replication: cannot listen on ${this.settings.listen}:${this.settings.port}: ${err.code ?? err.message}`);
        this.scheduleListen(LISTEN_RETRY_MS);
        resolve();
      });
      server.listen({ host: this.settings.listen, port: this.settings.port }, () => {
        this.listener = server;
        server.on('error', (err) => this.log.warn(`replication: listener error: ${err.message}`));
        this.log.info(`replication: listening on ${this.settings.listen}:${this.settings.port}`);
        this.publishStats();
        resolve();
      });
    });
  }

  private scheduleListen(delay: number): void {
    if (this.listenTimer || this.listener || this.stopped) return;
    this.listenTimer = setTimeout(() => {
      this.listenTimer = null;
      void this.tryListen();
    }, delay);
    this.listenTimer.unref();
  }

  private accept(socket: net.Socket): void {
    if (this.stopped || this.pending.size >= MAX_PENDING_LINKS) {
      socket.destroy();
      return;
    }
    const link = new Link(this, socket, false, `${socket.remoteAddress}:${socket.remotePort}`);
    this.pending.add(link);
  }

  private scheduleDial(): void {
    if (this.dialTimer || this.stopped) return;
    const base = this.refusedReason ? REFUSED_BACKOFF_MS : this.backoff;
    const delay = base / 2 + Math.random() * (base / 2);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.dialTimer = setTimeout(() => {
      this.dialTimer = null;
      this.dial();
    }, delay);
    this.dialTimer.unref();
  }

  private dial(): void {
    const peer = this.settings.peer;
    if (peer === null || this.stopped || this.dialing || this.link) return;
    // Holding -X on the host the peer address points to, dialling would reach ourselves: wait for the peer instead.
    if (this.dialReachesSelf && this.listener) {
      this.allowServing('this node holds the replication port and no peer has connected');
      return;
    }
    this.dialing = true;
    const socket = net.connect({ host: peer, port: this.settings.port });
    const address = `${peer}:${this.settings.port}`;
    const timeout = setTimeout(() => socket.destroy(new Error('ETIMEDOUT')), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timeout);
      this.dialing = false;
      const link = new Link(this, socket, true, address);
      this.pending.add(link);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timeout);
      if (!this.dialing) return;
      this.dialing = false;
      this.log.debug(`replication: cannot reach ${address}: ${err.code ?? err.message}`);
      this.allowServing(`peer ${address} unreachable (${err.code ?? err.message})`);
      if (!this.listener) this.scheduleListen(0);
      this.scheduleDial();
    });
  }

  // --- serving gate, stats, progress ---

  private allowServing(why: string): void {
    if (this.serving) return;
    this.serving = true;
    this.log.info(`replication: accepting clients: ${why}`);
    this.openGate?.();
    this.publishStats();
  }

  private publishStats(): void {
    const link = this.link;
    const now = Date.now();
    this.replica.setStats(
      renderReplicationStats({
        role: this.role,
        nodeId: this.nodeId,
        runId: this.runId,
        peer: link ? link.address : this.settings.peer === null ? '' : `${this.settings.peer}:${this.settings.port}`,
        peerNodeId: link?.peerId ?? 0,
        state: link ? link.receive : this.dialing || this.pending.size > 0 ? 'connecting' : 'down',
        mode: this.settings.mode,
        syncDegraded: this.settings.mode === 'sync' && !link,
        serving: this.serving,
        peerAcked: link?.peerAcked ?? 0,
        lag: this.backlog.lagAfter(link?.peerAcked ?? this.backlog.end, now),
        backlogBytes: this.backlog.used,
        backlogSize: this.backlog.capacity,
        backlogStart: this.backlog.start,
        appliedOffset: this.stream?.applied ?? 0,
        sendProgress: link?.sendProgress ?? null,
        receiveProgress: link?.receiveProgress ?? null,
        counters: this.counters,
        linkDrops: this.linkDrops,
        refusedLinks: this.refusedLinks,
      }),
    );
  }

  private logProgress(): void {
    const link = this.link;
    if (!link || this.log.verbosity < 1) return;
    for (const [dir, p] of [['to', link.sendProgress], ['from', link.receiveProgress]] as const) {
      if (!p) continue;
      const pct = p.total > 0 ? Math.min(100, Math.floor((p.items * 100) / p.total)) : 100;
      this.log.info(`replication: full sync ${dir} ${link.describePeer()}: ${p.items}/${p.total} items (${pct}%), ${mb(p.bytes)}`);
    }
  }
}
