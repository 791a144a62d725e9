/**
 * --repl-mode sync: a reply to a write leaves only once the peer has acknowledged the write's
 * record. Replies of one connection stay in order, so a batch after a held one waits too.
 */
export interface HeldReplies {
  segments: Buffer[];
  bytes: number;
  /** Stream offset the peer must have applied first (0: nothing of its own to wait for). */
  offset: number;
}

export interface GatedConnection {
  release(acked: number | null): void;
}

export class SyncGate {
  /** The peer's applied offset of this node's stream; null while there is no peer (replies go at once). */
  acked: number | null = null;
  private readonly waiting = new Set<GatedConnection>();

  constructor(readonly logEnd: () => number) {}

  /** Whether replies composed now, after writes up to `offset`, must wait. */
  mustHold(offset: number): boolean {
    return this.acked !== null && offset > this.acked;
  }

  wait(conn: GatedConnection): void {
    this.waiting.add(conn);
  }

  forget(conn: GatedConnection): void {
    this.waiting.delete(conn);
  }

  setAcknowledged(acked: number | null): void {
    this.acked = acked;
    for (const conn of [...this.waiting]) conn.release(acked);
  }
}
