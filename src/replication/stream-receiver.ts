import type { ReplicaPort } from '../engine/replica';
import type { Logger } from '../log';
import { FrameError, FrameType, offsetFrameHeader, readOffset } from './frames';
import type { Link, LinkCounters } from './link';
import { type SyncProgress, summary } from './sync-progress';

/** Without sync mode on the other side, acknowledgements (for lag and resume) go at most this often. */
const LAZY_ACK_MS = 20;

/** What the peer's stream looks like from here. */
export type ReceiveState = 'handshake' | 'full_sync' | 'partial_sync' | 'in_sync';

/** What taking in the peer's stream needs from the replicator. */
export interface ReceiverHost {
  readonly replica: ReplicaPort;
  readonly log: Logger;
  readonly counters: LinkCounters;
  streamStarted(link: Link, runId: string, offset: number, full: boolean): void;
  streamApplied(offset: number): void;
  streamComplete(link: Link): void;
}

/**
 * The peer's stream, taken in over one link: a resync (full: snapshot chunks; partial: records
 * from an offset this node holds), then live records, each applied by the engine in stream
 * order and acknowledged (at once when the peer runs in sync mode, else coalesced).
 */
export class StreamReceiver {
  state: ReceiveState = 'handshake';
  progress: SyncProgress | null = null;
  private applied = 0;
  private ackScheduled = false;

  constructor(private readonly host: ReceiverHost, private readonly link: Link) {}

  onSync(s: { mode: string; offset: number; items: number }): void {
    if (!Number.isSafeInteger(s.offset) || s.offset < 0) throw new FrameError('bad sync offset');
    const full = s.mode === 'full';
    if (full) {
      this.host.counters.fullSyncsReceived++;
      this.progress = { items: 0, total: Number(s.items) || 0, bytes: 0, startedAt: Date.now() };
      this.host.log.info(`replication: full sync from ${this.link.describePeer()}: ${s.items} items`);
    } else {
      this.host.counters.partialSyncsReceived++;
      this.host.log.info(`replication: partial resync from ${this.link.describePeer()} at offset ${s.offset}`);
    }
    this.state = full ? 'full_sync' : 'partial_sync';
    this.applied = s.offset;
    this.host.streamStarted(this.link, this.link.peer!.runId, s.offset, full);
  }

  /** A chunk of a full sync: u32 item count, then records. */
  onSnapshot(payload: Buffer): void {
    if (this.state !== 'full_sync' || payload.length < 4) throw new FrameError('snapshot chunk outside a full sync');
    this.host.replica.apply(payload.subarray(4));
    const p = this.progress!;
    p.items += payload.readUInt32LE(0);
    p.bytes += payload.length - 4;
  }

  onSyncEnd(): void {
    if (this.state !== 'full_sync' && this.state !== 'partial_sync') throw new FrameError('sync end without a sync');
    const p = this.progress;
    if (p) this.host.log.info(`replication: full sync from ${this.link.describePeer()} complete: ${summary(p)}`);
    this.progress = null;
    this.state = 'in_sync';
    this.host.streamComplete(this.link);
    this.scheduleAck();
  }

  /** Records from a stream offset: a frame this node applied already is skipped, a gap is an error. */
  onRecords(payload: Buffer): void {
    if (this.state === 'handshake') throw new FrameError('records before a sync');
    const offset = readOffset(payload);
    const body = payload.subarray(8);
    if (offset + body.length <= this.applied) return;
    if (offset !== this.applied) throw new FrameError(`records at offset ${offset}, expected ${this.applied}`);
    this.host.replica.apply(body);
    this.applied += body.length;
    this.host.streamApplied(this.applied);
    this.scheduleAck();
  }

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    const send = (): void => {
      this.ackScheduled = false;
      if (this.link.running) this.link.send(offsetFrameHeader(FrameType.Ack, this.applied, 0));
    };
    if (this.link.peer?.prompt) setImmediate(send);
    else setTimeout(send, LAZY_ACK_MS).unref();
  }
}
