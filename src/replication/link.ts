import type { Socket } from 'node:net';
import { FrameError, FrameReader, FrameType, frame, jsonFrame, readOffset } from './frames';
import { HANDSHAKE_MAX_FRAME, Handshake, type HandshakeHost, type Hello } from './handshake';
import { type ReceiverHost, type ReceiveState, StreamReceiver } from './stream-receiver';
import { type SenderHost, StreamSender } from './stream-sender';
import type { SyncProgress } from './sync-progress';

const HANDSHAKE_TIMEOUT_MS = 5000;
/** A peer silent this long (a ping goes every PING_MS) is gone, stopped or cut off: drop the link. */
const LINK_TIMEOUT_MS = 5000;
const PING_MS = 1000;

export interface LinkCounters {
  bytesSent: number;
  bytesReceived: number;
  fullSyncsSent: number;
  fullSyncsReceived: number;
  partialSyncsSent: number;
  partialSyncsReceived: number;
}

/** What a link needs from the replicator that owns it: what its three parts need, and word of its end. */
export interface LinkHost extends HandshakeHost, SenderHost, ReceiverHost {
  /** The peer refused us (auth, a third node, a protocol mismatch). */
  refusedBy(link: Link, reason: string): void;
  closed(link: Link, why: string): void;
}

/**
 * One replication connection: the socket, its frames and its liveness (pings, timeouts). It
 * runs a handshake, then both directions at once: this node's stream out (StreamSender), the
 * peer's in (StreamReceiver).
 */
export class Link {
  /** The link carried records at some point (for the log: a refused handshake is not a dropped link). */
  wasRunning = false;
  private readonly reader = new FrameReader(HANDSHAKE_MAX_FRAME);
  private readonly handshake: Handshake;
  private readonly sender: StreamSender;
  private readonly receiver: StreamReceiver;
  private isRunning = false;
  private closedWhy: string | null = null;
  private lastHeard = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly host: LinkHost,
    readonly socket: Socket,
    readonly outbound: boolean,
    readonly address: string,
  ) {
    this.handshake = new Handshake(host, this, this.reader);
    this.sender = new StreamSender(host, this);
    this.receiver = new StreamReceiver(host, this);
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('drain', () => this.pump());
    socket.on('error', (err: NodeJS.ErrnoException) => this.close(`socket error ${err.code ?? err.message}`));
    socket.on('close', () => this.close('connection closed by the peer'));
    this.timer = setInterval(() => this.tick(), PING_MS / 2);
    this.timer.unref();
    this.handshake.sendHello();
  }

  /** The peer's Hello, once it arrived. */
  get peer(): Hello | null {
    return this.handshake.peer;
  }

  /** Node id of the peer once its Hello arrived. */
  get peerId(): number | null {
    return this.peer?.nodeId ?? null;
  }

  /** Both sides accepted the link and it is not closed: records flow. */
  get running(): boolean {
    return this.isRunning;
  }

  get receive(): ReceiveState {
    return this.receiver.state;
  }

  /** The peer's applied offset of this node's stream. */
  get peerAcked(): number {
    return this.sender.acked;
  }

  get sendProgress(): SyncProgress | null {
    return this.sender.progress;
  }

  get receiveProgress(): SyncProgress | null {
    return this.receiver.progress;
  }

  /** Drops the link; `flush` lets what was written (a refusal) reach the peer first. */
  close(why: string, flush = false): void {
    if (this.closedWhy !== null) return;
    this.closedWhy = why;
    clearInterval(this.timer);
    this.isRunning = false;
    if (flush) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), HANDSHAKE_TIMEOUT_MS).unref();
    } else {
      this.socket.destroy();
    }
    this.host.closed(this, why);
  }

  /** Refuses the link, telling the peer why. */
  refuse(reason: string): void {
    this.send(jsonFrame(FrameType.Error, { reason }));
    this.close(reason, true);
  }

  /** New records reached the backlog. */
  pump(): void {
    this.sender.pump();
  }

  describePeer(): string {
    return this.peer ? `node ${this.peer.nodeId} at ${this.address}` : this.address;
  }

  /** Writes a frame (or part of one) to the peer; `written` runs once the socket took it. */
  send(buf: Buffer, written?: () => void): void {
    if (this.socket.destroyed) return written?.();
    this.host.counters.bytesSent += buf.length;
    this.socket.write(buf, written);
  }

  /** The handshake is over on both sides: records may flow. */
  start(): void {
    this.isRunning = this.wasRunning = true;
    this.host.log.info(`replication: linked with ${this.describePeer()} (${this.outbound ? 'dialled' : 'accepted'})`);
    this.sender.start(this.peer!.resume);
  }

  private tick(): void {
    const now = Date.now();
    if (!this.isRunning && now - this.lastHeard > HANDSHAKE_TIMEOUT_MS) return this.close('handshake timed out');
    if (now - this.lastHeard > LINK_TIMEOUT_MS) return this.close(`peer silent for ${LINK_TIMEOUT_MS / 1000} s`);
    if (this.isRunning) this.send(frame(FrameType.Ping));
  }

  private onData(data: Buffer): void {
    if (this.closedWhy !== null) return;
    this.lastHeard = Date.now();
    this.host.counters.bytesReceived += data.length;
    this.reader.push(data);
    try {
      for (let f = this.reader.next(); f && this.closedWhy === null; f = this.reader.next()) this.onFrame(f.type, f.payload);
    } catch (err) {
      const why = err instanceof FrameError || err instanceof SyntaxError ? err.message : String((err as Error).message ?? err);
      this.host.log.warn(`replication: bad data from ${this.describePeer()}: ${why}; dropping the link`);
      this.close(`bad data: ${why}`);
    }
  }

  private onFrame(type: FrameType, payload: Buffer): void {
    if (type === FrameType.Error) return this.onError(payload);
    if (!this.isRunning) return this.handshake.onFrame(type, payload);
    switch (type) {
      case FrameType.Sync: return this.receiver.onSync(JSON.parse(payload.toString()) as { mode: string; offset: number; items: number });
      case FrameType.Snapshot: return this.receiver.onSnapshot(payload);
      case FrameType.SyncEnd: return this.receiver.onSyncEnd();
      case FrameType.Records: return this.receiver.onRecords(payload);
      case FrameType.Ack: return this.sender.acknowledge(readOffset(payload));
      case FrameType.Ping: return;
      default: throw new FrameError(`unexpected frame type ${type as number}`);
    }
  }

  private onError(payload: Buffer): void {
    let reason = 'no reason given';
    try {
      reason = String((JSON.parse(payload.toString()) as { reason?: unknown }).reason ?? reason);
    } catch {
      // The reason is informative only.
    }
    this.host.refusedBy(this, reason);
    this.close(`refused by the peer: ${reason}`);
  }
}
