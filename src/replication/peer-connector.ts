import net from 'node:net';
import type { ReplicationSettings } from '../config/settings';
import type { Logger } from '../log';
import type { Link } from './link';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** After a refusal (a third node, a wrong secret) try much less often. */
const REFUSED_BACKOFF_MS = 10_000;
const CONNECT_TIMEOUT_MS = 2000;
const LISTEN_RETRY_MS = 1000;
/** Handshakes in progress at once: an open port must not let strangers hold memory. */
const MAX_PENDING_LINKS = 8;

/** What the connector tells the replicator, and asks it. */
export interface ConnectorEvents {
  /** Whether a link with the peer is up (then there is no one to dial). */
  linkUp(): boolean;
  /** Makes the link over a new connection, dialled (`outbound`) or accepted. */
  newLink(socket: net.Socket, outbound: boolean, address: string): Link;
  allowServing(why: string): void;
  /** The listener came up: stats show the role. */
  listening(): void;
}

/**
 * How a node finds its peer: it listens on -X whenever the port is free and keeps dialling the
 * peer (-x) with backoff while no link is up, so two nodes on one host sharing -X work and the
 * survivor takes the port over. Every connection either way becomes a link in its handshake
 * here until the replicator settles it.
 */
export class PeerConnector {
  private listener: net.Server | null = null;
  private readonly pending = new Set<Link>();
  private dialTimer: NodeJS.Timeout | null = null;
  private listenTimer: NodeJS.Timeout | null = null;
  private backoff = BACKOFF_MIN_MS;
  private dialing = false;
  /** Dialling the peer address reached this very node (it holds -X on the same host). */
  private dialReachesSelf = false;
  private refusedReason: string | null = null;
  private stopped = false;

  constructor(private readonly settings: ReplicationSettings, private readonly log: Logger, private readonly events: ConnectorEvents) {}

  get listening(): boolean {
    return this.listener !== null;
  }

  /** A dial or a handshake is in progress. */
  get connecting(): boolean {
    return this.dialing || this.pending.size > 0;
  }

  /** The link's handshake is over, whichever way it went. */
  settled(link: Link): void {
    this.pending.delete(link);
  }

  /** A link is up: a later redial starts again from the shortest backoff. */
  linked(): void {
    this.refusedReason = null;
    this.backoff = BACKOFF_MIN_MS;
  }

  /** No link with this peer is possible for now (wrong secret, a third node). */
  refused(reason: string): void {
    this.refusedReason = reason;
  }

  /** A dialled connection reached this node itself. */
  reachedSelf(): void {
    this.dialReachesSelf = true;
  }

  /** No link, or a connection ended: listen if the port is free, and dial again after the backoff. */
  reconnect(): void {
    this.scheduleListen(0);
    this.scheduleDial();
  }

  /** Stops listening and dialling (handshakes in progress go on until closeHandshakes). */
  stop(): void {
    this.stopped = true;
    for (const t of [this.dialTimer, this.listenTimer]) if (t) clearTimeout(t);
    this.listener?.close();
  }

  closeHandshakes(why: string): void {
    for (const l of [...this.pending]) l.close(why);
  }

  tryListen(): Promise<void> {
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
        this.events.listening();
        resolve();
      });
    });
  }

  dial(): void {
    const peer = this.settings.peer;
    if (peer === null || this.stopped || this.dialing || this.events.linkUp()) return;
    // Holding -X on the host the peer address points to, dialling would reach ourselves: wait for the peer instead.
    if (this.dialReachesSelf && this.listener) {
      this.events.allowServing('this node holds the replication port and no peer has connected');
      return;
    }
    this.dialing = true;
    const socket = net.connect({ host: peer, port: this.settings.port });
    const address = `${peer}:${this.settings.port}`;
    const timeout = setTimeout(() => socket.destroy(new Error('ETIMEDOUT')), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timeout);
      this.dialing = false;
      this.pending.add(this.events.newLink(socket, true, address));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timeout);
      if (!this.dialing) return;
      this.dialing = false;
      this.log.debug(`replication: cannot reach ${address}: ${err.code ?? err.message}`);
      this.events.allowServing(`peer ${address} unreachable (${err.code ?? err.message})`);
      this.reconnect();
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
    this.pending.add(this.events.newLink(socket, false, `${socket.remoteAddress}:${socket.remotePort}`));
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
}
