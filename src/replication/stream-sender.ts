import { performance } from 'node:perf_hooks';
import type { ReplicaPort } from '../engine/replica';
import type { Logger } from '../log';
import type { Backlog } from './backlog';
import { countFrameHeader, FrameType, frame, jsonFrame, offsetFrameHeader } from './frames';
import type { Hello } from './handshake';
import type { Link, LinkCounters } from './link';
import { type SyncProgress, summary } from './sync-progress';

/** Stop writing to the socket above this; it also bounds what a non-reading peer costs us. */
const SEND_HIGH_WATER = 8 * 1024 * 1024;
const SNAPSHOT_CHUNK = 256 * 1024;
/** One pump call works at most this long before yielding the event loop. */
const PUMP_SLICE_MS = 4;

/** What sending this node's stream needs from the replicator. */
export interface SenderHost {
  readonly runId: string;
  readonly replica: ReplicaPort;
  readonly backlog: Backlog;
  readonly log: Logger;
  readonly counters: LinkCounters;
  /** Pulls the engine's pending records into the backlog now. */
  drainNow(): void;
  acknowledged(link: Link, offset: number): void;
}

/**
 * This node's stream, sent over one link once both sides accepted it: first what the peer
 * lacks (the backlog after the peer's offset when it still holds it, else a full snapshot),
 * then live records as they reach the backlog. Flow-controlled by the socket's unsent bytes,
 * in slices that never hold the event loop long.
 */
export class StreamSender {
  /** The peer's applied offset of this node's stream. */
  acked = 0;
  progress: SyncProgress | null = null;
  private sentOffset = 0;
  private snapshotting = false;
  private syncEndPending = false;
  private pumpScheduled = false;

  constructor(private readonly host: SenderHost, private readonly link: Link) {}

  /** Starts the resync `resume` (what the peer holds of this node's stream) calls for. */
  start(resume: Hello['resume']): void {
    const { backlog, replica, counters, log } = this.host;
    this.host.drainNow();
    const partial = resume !== null && resume.runId === this.host.runId && backlog.covers(resume.offset);
    // What the peer holds of this node's stream until it says more: sync-mode replies wait from now on.
    this.acknowledge(partial ? resume.offset : 0);
    if (partial) {
      counters.partialSyncsSent++;
      this.sentOffset = resume.offset;
      this.syncEndPending = true;
      this.link.send(jsonFrame(FrameType.Sync, { mode: 'partial', offset: resume.offset, items: 0 }));
      log.info(`replication: partial resync to ${this.link.describePeer()}: ${backlog.end - resume.offset} bytes from offset ${resume.offset}`);
    } else {
      counters.fullSyncsSent++;
      const items = replica.snapshotBegin();
      this.sentOffset = backlog.end;
      this.snapshotting = true;
      this.progress = { items: 0, total: items, bytes: 0, startedAt: Date.now() };
      this.link.send(jsonFrame(FrameType.Sync, { mode: 'full', offset: backlog.end, items }));
      log.info(`replication: full sync to ${this.link.describePeer()}: ${items} items`);
    }
    this.pump();
  }

  /** The peer applied this node's stream up to `offset`. */
  acknowledge(offset: number): void {
    this.acked = offset;
    this.host.acknowledged(this.link, offset);
  }

  /** New records reached the backlog, or the socket drained. */
  pump(): void {
    if (!this.link.running || this.pumpScheduled) return;
    const deadline = performance.now() + PUMP_SLICE_MS;
    const { socket } = this.link;
    // One writev for everything this call sends.
    socket.cork();
    try {
      this.pumpSlice(deadline);
    } finally {
      socket.uncork();
    }
  }

  private pumpSlice(deadline: number): void {
    const { backlog, replica } = this.host;
    const link = this.link;
    while (link.socket.writableLength < SEND_HIGH_WATER) {
      if (this.sentOffset < backlog.end) {
        const read = backlog.readFrom(this.sentOffset);
        if (!read) return link.close('the peer fell behind this node\'s backlog: it will get a full sync');
        link.send(offsetFrameHeader(FrameType.Records, this.sentOffset, read.bytes.length));
        // The backlog reuses the bytes' memory only after the kernel has them.
        link.send(read.bytes, read.written);
        this.sentOffset += read.bytes.length;
      } else if (this.snapshotting) {
        const chunk = replica.snapshotNext(SNAPSHOT_CHUNK);
        const p = this.progress!;
        if (chunk) {
          link.send(countFrameHeader(FrameType.Snapshot, chunk.items, chunk.bytes.length));
          link.send(chunk.bytes);
          p.items += chunk.items;
          p.bytes += chunk.bytes.length;
        } else {
          this.snapshotting = false;
          link.send(frame(FrameType.SyncEnd));
          this.host.log.info(`replication: full sync to ${link.describePeer()} sent: ${summary(p)}`);
          this.progress = null;
        }
      } else if (this.syncEndPending) {
        this.syncEndPending = false;
        link.send(frame(FrameType.SyncEnd));
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
}
