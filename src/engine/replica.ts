/**
 * The coarse boundary between replication (TypeScript, src/replication) and an engine's data
 * path. Records cross it in batches, encoded as described in src/engine/ts/replica/codec.ts
 * (native/src/engine/replica/codec.h encodes the same bytes), never one call per request.
 */
export interface ReplicaPort {
  /** Registers the function called, at most once per loop turn, when own records wait to be drained. */
  onRecords(listener: () => void): void;
  /** Bytes of this node's own records waiting since the last drain (the peer's records are never among them). */
  pending(): number;
  /**
   * Copies the waiting records (exactly `pending()` bytes) into `target` at `at` and forgets
   * them; returns how many records they were. The caller's memory, so steady draining
   * allocates nothing.
   */
  drainInto(target: Buffer, at: number): number;
  /** Applies a batch of the peer's records by the apply rule: higher (version, origin) wins. */
  apply(records: Buffer): void;
  /** Starts a snapshot of every item (and tombstones and flush state); returns the item count. */
  snapshotBegin(): number;
  /** About `maxBytes` of snapshot records, or null once the snapshot is complete. */
  snapshotNext(maxBytes: number): SnapshotChunk | null;
  /** The `stats replication` lines ("STAT name value\r\n"...) the engine answers with. */
  setStats(text: string): void;
  /**
   * Sync mode: replies to writes wait until the peer acknowledged their records. `acked` is the
   * peer's applied offset of this node's stream; null means no peer: replies go at once.
   */
  setAcknowledged(acked: number | null): void;
}

export interface SnapshotChunk {
  bytes: Buffer;
  items: number;
}
