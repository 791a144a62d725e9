import { randomBytes } from 'node:crypto';
import type { ReplicationSettings } from '../config/settings';
import type { ReplicaPort } from '../engine/replica';
import type { Logger } from '../log';
import { Backlog } from './backlog';
import type { Hello } from './handshake';
import { Link, type LinkCounters } from './link';
import { PeerConnector } from './peer-connector';
import { ServingGate } from './serving-gate';
import { renderReplicationStats, type ReplicationView } from './stats';
import { mb } from './sync-progress';

const PROGRESS_LOG_MS = 1000;
const STATS_REFRESH_MS = 100;
/** Async mode: this node's records wait at most this long before they are drained and sent. */
const BATCH_MS = 1;

export type Role = 'listener' | 'connector' | 'none';

/**
 * Replication with one peer: finds it (PeerConnector), keeps one link with it, moves this
 * node's records (engine log -> backlog -> link) and the peer's (link -> engine), and decides
 * when the node may serve clients (ServingGate).
 */
export class Replicator {
  readonly runId = randomBytes(8).toString('hex');
  readonly backlog: Backlog;
  readonly counters: LinkCounters = {
    bytesSent: 0, bytesReceived: 0, fullSyncsSent: 0, fullSyncsReceived: 0, partialSyncsSent: 0, partialSyncsReceived: 0,
  };
  linkDrops = 0;
  refusedLinks = 0;
  private link: Link | null = null;
  private readonly connector: PeerConnector;
  private readonly gate: ServingGate;
  /** The peer run whose stream this node holds, how far, and whether a sync of it completed. */
  private stream: { runId: string; applied: number; complete: boolean } | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
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
    this.gate = new ServingGate(log);
    this.connector = new PeerConnector(settings, log, {
      linkUp: () => this.link !== null,
      newLink: (socket, outbound, address) => new Link(this, socket, outbound, address),
      allowServing: (why) => this.allowServing(why),
      listening: () => this.publishStats(),
    });
    replica.onRecords(() => this.onRecords());
  }

  get promptAcks(): boolean {
    return this.settings.mode === 'sync';
  }

  get secret(): string | null {
    return this.settings.secret;
  }

  get role(): Role {
    if (this.connector.listening) return 'listener';
    return this.link?.outbound ? 'connector' : 'none';
  }

  /**
   * Starts listening and dialling. Resolves when the node may accept clients: in sync with the
   * peer, or no peer to be found, or at once with --serve-stale.
   */
  async start(): Promise<void> {
    const ready = this.gate.wait();
    await this.connector.tryListen();
    this.statsTimer = setInterval(() => this.publishStats(), STATS_REFRESH_MS);
    this.statsTimer.unref();
    this.progressTimer = setInterval(() => this.logProgress(), PROGRESS_LOG_MS);
    this.progressTimer.unref();
    if (this.settings.serveStale) this.allowServing('--serve-stale');
    else if (this.settings.peer === null) this.allowServing('no -x peer to sync from');
    this.connector.dial();
    this.publishStats();
    return ready;
  }

  stop(): void {
    for (const t of [this.progressTimer, this.statsTimer, this.batchTimer]) if (t) clearTimeout(t);
    this.connector.stop();
    this.link?.close('node stopping');
    this.connector.closeHandshakes('node stopping');
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
    this.connector.settled(link);
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
    this.connector.linked();
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
    this.connector.refused(reason);
    this.publishStats();
    this.allowServing(`no link with the peer: ${reason}`);
  }

  closed(link: Link, why: string): void {
    this.connector.settled(link);
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
    if (why === 'connected to itself') this.connector.reachedSelf();
    // A peer that takes the connection but never completes the handshake (stopped, hung) is no
    // peer to sync from: waiting for it would keep this node from serving indefinitely.
    else if (!link.wasRunning && link.outbound) this.allowServing(`peer ${link.address} did not complete the handshake (${why})`);
    this.connector.reconnect();
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

  // --- serving gate, stats, progress ---

  private allowServing(why: string): void {
    if (this.gate.allow(why)) this.publishStats();
  }

  private publishStats(): void {
    this.replica.setStats(renderReplicationStats(this.view()));
  }

  /** What `stats replication` shows, now (the metrics endpoint reads it too). */
  view(): ReplicationView {
    const link = this.link;
    const now = Date.now();
    return {
      role: this.role,
      nodeId: this.nodeId,
      runId: this.runId,
      peer: link ? link.address : this.settings.peer === null ? '' : `${this.settings.peer}:${this.settings.port}`,
      peerNodeId: link?.peerId ?? 0,
      state: link ? link.receive : this.connector.connecting ? 'connecting' : 'down',
      mode: this.settings.mode,
      syncDegraded: this.settings.mode === 'sync' && !link,
      serving: this.gate.open,
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
    };
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
