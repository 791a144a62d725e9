import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log';
import type { ReplicaPort } from '../engine/replica';
import type { Backlog } from './backlog';
import { countFrameHeader, FrameError, FrameReader, FrameType, frame, jsonFrame, offsetFrameHeader, readOffset } from './frames';
import { type Hello, newNonce, parseHello, proof, proofMatches, PROTOCOL_VERSION } from './handshake';

/** Before authentication a peer may send only small frames. */
const HANDSHAKE_MAX_FRAME = 64 * 1024;

const HANDSHAKE_TIMEOUT_MS = 5000;
/** A peer silent this long (a ping goes every PING_MS) is gone, stopped or cut off: drop the link. */
const LINK_TIMEOUT_MS = 5000;
const PING_MS = 1000;
/** Stop writing to the socket above this; it also bounds what a non-reading peer costs us. */
const SEND_HIGH_WATER = 8 * 1024 * 1024;
const SNAPSHOT_CHUNK = 256 * 1024;
/** One pump call works at most this long before yielding the event loop. */
const PUMP_SLICE_MS = 4;
/** Without sync mode on the other side, acknowledgements (for lag and resume) go at most this often. */
const LAZY_ACK_MS = 20;

/** What the peer's stream looks like from here. */
export type ReceiveState = 'handshake' | 'full_sync' | 'partial_sync' | 'in_sync';

export interface LinkCounters {
  bytesSent: number;
  bytesReceived: number;
  fullSyncsSent: number;
  fullSyncsReceived: number;
  partialSyncsSent: number;
  partialSyncsReceived: number;
}

export interface SyncProgress {
  items: number;
  total: number;
  bytes: number;
  startedAt: number;
}

/** What a link needs from the replicator that owns it. */
export interface LinkHost {
  readonly nodeId: number;
  readonly runId: string;
  readonly secret: string | null;
  readonly replica: ReplicaPort;
  readonly backlog: Backlog;
  readonly log: Logger;
  readonly counters: LinkCounters;
  /** This node runs in sync mode: its peer should acknowledge at once. */
  readonly promptAcks: boolean;
  /** The largest frame accepted from an authenticated peer (one drained batch or snapshot chunk). */
  readonly maxFrame: number;
  /** What this node holds of a peer run's stream (sent as `resume` in the Hello). */
  resumeFor(): Hello['resume'];
  /** Pulls the engine's pending records into the backlog now. */
  drainNow(): void;
  /** Both sides proved the secret: null to go on, or why this link is refused. */
  established(link: Link): string | null;
  streamStarted(link: Link, runId: string, offset: number, full: boolean): void;
  streamApplied(offset: number): void;
  streamComplete(link: Link): void;
  acknowledged(link: Link, offset: number): void;
  /** The peer refused us (auth, a third node, a protocol mismatch). */
  refusedBy(link: Link, reason: string): void;
  /** This side refused the peer's credentials. */
  refused(reason: string): void;
  closed(link: Link, why: string): void;
}

/**
 * One replication connection: handshake and authentication, then both directions at once:
 * this node's resync and live records out (flow-controlled, in slices that never hold the
 * loop), the peer's frames in (applied by the engine, acknowledged).
 */
export class Link {
  peer: Hello | null = null;
  receive: ReceiveState = 'handshake';
  /** The peer's applied offset of this node's stream. */
  peerAcked = 0;
  sendProgress: SyncProgress | null = null;
  receiveProgress: SyncProgress | null = null;
  private readonly nonce = newNonce();
  private readonly reader = new FrameReader(HANDSHAKE_MAX_FRAME);
  private authenticated = false;
  private welcomed = false;
  private running = false;
  /** The link carried records at some point (for the log: a refused handshake is not a dropped link). */
  wasRunning = false;
  private closedWhy: string | null = null;
  private sentOffset = 0;
  private snapshotting = false;
  private syncEndPending = false;
  private pumpScheduled = false;
  private ackScheduled = false;
  private applied = 0;
  private lastHeard = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly host: LinkHost,
    readonly socket: Socket,
    readonly outbound: boolean,
    readonly address: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('drain', () => this.pump());
    socket.on('error', (err: NodeJS.ErrnoException) => this.close(`socket error ${err.code ?? err.message}`));
    socket.on('close', () => this.close('connection closed by the peer'));
    this.timer = setInterval(() => this.tick(), PING_MS / 2);
    this.timer.unref();
    const hello: Hello = {
      proto: PROTOCOL_VERSION, nodeId: host.nodeId, runId: host.runId, nonce: this.nonce, resume: host.resumeFor(), prompt: host.promptAcks,
    };
    this.write(jsonFrame(FrameType.Hello, hello));
  }

  /** Node id of the peer once its Hello arrived. */
  get peerId(): number | null {
    return this.peer?.nodeId ?? null;
  }

  /** Drops the link; `flush` lets what was written (a refusal) reach the peer first. */
  close(why: string, flush = false): void {
    if (this.closedWhy !== null) return;
    this.closedWhy = why;
    clearInterval(this.timer);
    this.running = false;
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
    this.write(jsonFrame(FrameType.Error, { reason }));
    this.close(reason, true);
  }

  /** New records reached the backlog. */
  pump(): void {
    if (!this.running || this.pumpScheduled) return;
    const deadline = performance.now() + PUMP_SLICE_MS;
    // One writev for everything this call sends.
    this.socket.cork();
    try {
      this.pumpSlice(deadline);
    } finally {
      this.socket.uncork();
    }
  }

  private pumpSlice(deadline: number): void {
    const { backlog, replica } = this.host;
    while (this.socket.writableLength < SEND_HIGH_WATER) {
      if (this.sentOffset < backlog.end) {
        const read = backlog.readFrom(this.sentOffset);
        if (!read) return this.close('the peer fell behind this node\'s backlog: it will get a full sync');
        this.write(offsetFrameHeader(FrameType.Records, this.sentOffset, read.bytes.length));
        // The backlog reuses the bytes' memory only after the kernel has them.
        this.write(read.bytes, read.written);
        this.sentOffset += read.bytes.length;
      } else if (this.snapshotting) {
        const chunk = replica.snapshotNext(SNAPSHOT_CHUNK);
        const p = this.sendProgress!;
        if (chunk) {
          this.write(countFrameHeader(FrameType.Snapshot, chunk.items, chunk.bytes.length));
          this.write(chunk.bytes);
          p.items += chunk.items;
          p.bytes += chunk.bytes.length;
        } else {
          this.snapshotting = false;
          this.write(frame(FrameType.SyncEnd));
          this.host.log.info(`replication: full sync to ${this.describePeer()} sent: ${summary(p)}`);
          this.sendProgress = null;
        }
      } else if (this.syncEndPending) {
        this.syncEndPending = false;
        this.write(frame(FrameType.SyncEnd));
      } else {
        return;
      }
      if (performance.now() > deadline) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.pumpScheduled = false;
          this.pump();
        });
        return;
      }
    }
  }

  describePeer(): string {
    return this.peer ? `node ${this.peer.nodeId} at ${this.address}` : this.address;
  }

  private write(buf: Buffer, written?: () => void): void {
    if (this.socket.destroyed) return written?.();
    this.host.counters.bytesSent += buf.length;
    this.socket.write(buf, written);
  }

  private tick(): void {
    const now = Date.now();
    if (!this.running && now - this.lastHeard > HANDSHAKE_TIMEOUT_MS) return this.close('handshake timed out');
    if (now - this.lastHeard > LINK_TIMEOUT_MS) return this.close(`peer silent for ${LINK_TIMEOUT_MS / 1000} s`);
    if (this.running) this.write(frame(FrameType.Ping));
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
    if (!this.running) return this.onHandshakeFrame(type, payload);
    switch (type) {
      case FrameType.Sync: return this.onSync(JSON.parse(payload.toString()) as { mode: string; offset: number; items: number });
      case FrameType.Snapshot: {
        if (this.receive !== 'full_sync' || payload.length < 4) throw new FrameError('snapshot chunk outside a full sync');
        this.host.replica.apply(payload.subarray(4));
        const p = this.receiveProgress!;
        p.items += payload.readUInt32LE(0);
        p.bytes += payload.length - 4;
        return;
      }
      case FrameType.SyncEnd: return this.onSyncEnd();
      case FrameType.Records: return this.onRecords(payload);
      case FrameType.Ack:
        this.peerAcked = readOffset(payload);
        return this.host.acknowledged(this, this.peerAcked);
      case FrameType.Ping: return;
      case FrameType.Error: return this.onError(payload);
      default: throw new FrameError(`unexpected frame type ${type as number}`);
    }
  }

  private onHandshakeFrame(type: FrameType, payload: Buffer): void {
    if (type === FrameType.Error) return this.onError(payload);
    if (type === FrameType.Hello && !this.peer) {
      const hello = parseHello(JSON.parse(payload.toString()));
      if (!hello) throw new FrameError('malformed hello');
      if (hello.proto !== PROTOCOL_VERSION) return this.refuse(`replication protocol ${hello.proto} is not supported (this node speaks ${PROTOCOL_VERSION})`);
      this.peer = hello;
      if (hello.nodeId === this.host.nodeId) return this.close('connected to itself');
      this.write(jsonFrame(FrameType.Auth, { mac: proof(this.host.secret, hello.nonce, this.host.nodeId, hello.nodeId) }));
      return;
    }
    if (type === FrameType.Auth && this.peer) {
      const { mac } = JSON.parse(payload.toString()) as { mac?: unknown };
      if (!proofMatches(proof(this.host.secret, this.nonce, this.peer.nodeId, this.host.nodeId), mac)) {
        const reason = 'authentication failed: the replication secrets differ';
        this.host.log.warn(`replication: ${this.describePeer()} failed authentication (a different or missing --repl-secret); refused`);
        this.host.refused(reason);
        return this.refuse(reason);
      }
      this.authenticated = true;
      this.reader.maxFrame = this.host.maxFrame;
      const refusal = this.host.established(this);
      if (refusal !== null) return this.refuse(refusal);
      this.write(frame(FrameType.Welcome));
      if (this.welcomed) this.start();
      return;
    }
    if (type === FrameType.Welcome && this.peer && !this.welcomed) {
      this.welcomed = true;
      // Both sides accepted the link: only now does either send records.
      if (this.authenticated) this.start();
      return;
    }
    throw new FrameError(`unexpected frame type ${type as number} during the handshake`);
  }

  /** Sends the peer what it lacks: the backlog after its offset when it still holds it, else everything. */
  private start(): void {
    this.running = this.wasRunning = true;
    const { backlog, replica, counters, log } = this.host;
    log.info(`replication: linked with ${this.describePeer()} (${this.outbound ? 'dialled' : 'accepted'})`);
    this.host.drainNow();
    const resume = this.peer!.resume;
    const partial = resume !== null && resume.runId === this.host.runId && backlog.covers(resume.offset);
    // What the peer holds of this node's stream until it says more: sync-mode replies wait from now on.
    this.peerAcked = partial ? resume.offset : 0;
    this.host.acknowledged(this, this.peerAcked);
    if (partial) {
      counters.partialSyncsSent++;
      this.sentOffset = resume.offset;
      this.syncEndPending = true;
      this.write(jsonFrame(FrameType.Sync, { mode: 'partial', offset: resume.offset, items: 0 }));
      log.info(`replication: partial resync to ${this.describePeer()}: ${backlog.end - resume.offset} bytes from offset ${resume.offset}`);
    } else {
      counters.fullSyncsSent++;
      const items = replica.snapshotBegin();
      this.sentOffset = backlog.end;
      this.snapshotting = true;
      this.sendProgress = { items: 0, total: items, bytes: 0, startedAt: Date.now() };
      this.write(jsonFrame(FrameType.Sync, { mode: 'full', offset: backlog.end, items }));
      log.info(`replication: full sync to ${this.describePeer()}: ${items} items`);
    }
    this.pump();
  }

  private onSync(s: { mode: string; offset: number; items: number }): void {
    if (!Number.isSafeInteger(s.offset) || s.offset < 0) throw new FrameError('bad sync offset');
    const full = s.mode === 'full';
    if (full) {
      this.host.counters.fullSyncsReceived++;
      this.receiveProgress = { items: 0, total: Number(s.items) || 0, bytes: 0, startedAt: Date.now() };
      this.host.log.info(`replication: full sync from ${this.describePeer()}: ${s.items} items`);
    } else {
      this.host.counters.partialSyncsReceived++;
      this.host.log.info(`replication: partial resync from ${this.describePeer()} at offset ${s.offset}`);
    }
    this.receive = full ? 'full_sync' : 'partial_sync';
    this.applied = s.offset;
    this.host.streamStarted(this, this.peer!.runId, s.offset, full);
  }

  private onSyncEnd(): void {
    if (this.receive !== 'full_sync' && this.receive !== 'partial_sync') throw new FrameError('sync end without a sync');
    const p = this.receiveProgress;
    if (p) this.host.log.info(`replication: full sync from ${this.describePeer()} complete: ${summary(p)}`);
    this.receiveProgress = null;
    this.receive = 'in_sync';
    this.host.streamComplete(this);
    this.scheduleAck();
  }

  private onRecords(payload: Buffer): void {
    if (this.receive === 'handshake') throw new FrameError('records before a sync');
    const offset = readOffset(payload);
    const body = payload.subarray(8);
    if (offset + body.length <= this.applied) return;
    if (offset !== this.applied) throw new FrameError(`records at offset ${offset}, expected ${this.applied}`);
    this.host.replica.apply(body);
    this.applied += body.length;
    this.host.streamApplied(this.applied);
    this.scheduleAck();
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

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    const send = (): void => {
      this.ackScheduled = false;
      if (this.running) this.write(offsetFrameHeader(FrameType.Ack, this.applied, 0));
    };
    if (this.peer?.prompt) setImmediate(send);
    else setTimeout(send, LAZY_ACK_MS).unref();
  }
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** A finished full sync for the log: items, size, duration. */
function summary(p: SyncProgress): string {
  return `${p.items} items, ${mb(p.bytes)} in ${((Date.now() - p.startedAt) / 1000).toFixed(1)} s`;
}
