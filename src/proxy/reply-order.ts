import { Slot, type ReplySink } from './slot';

/** Replies waiting for the rest of their batch are sent anyway once this much is ready. */
const EARLY_FLUSH_BYTES = 16 * 1024;
/** Sent slots are cut off the front past this many, so a long pipeline does not keep them all. */
const COMPACT_AT = 1024;

/** The finished replies at the head of the order, and whether the connection ends after them. */
export interface ReplyBatch {
  out: Buffer[];
  end: boolean;
}

/**
 * One client's replies in request order. Every request takes a slot when it is read; the
 * replies finish in any order (they come from different backends, or from the proxy itself)
 * and leave only from the head, each after every earlier one.
 */
export class ReplyOrder {
  private slots: Slot[] = [];
  private head = 0;

  constructor(private readonly sink: ReplySink) {}

  /** Requests read whose replies are not sent yet. */
  get inFlight(): number {
    return this.slots.length - this.head;
  }

  /** Whether the reply at the head is finished, so there is something to send. */
  get headDone(): boolean {
    const s = this.slots[this.head];
    return s !== undefined && s.done;
  }

  /** The next request's place. */
  add(): Slot {
    const s = new Slot(this.sink);
    this.slots.push(s);
    return s;
  }

  /**
   * Takes every finished reply at the head, up to and including a `quit`. While later replies
   * of a pipelined batch are still on their way, small output waits for them: null, nothing
   * taken, unless `force` (the caller then sends one write per batch instead of one per
   * backend read).
   */
  take(force: boolean): ReplyBatch | null {
    let i = this.head;
    const slots = this.slots;
    const out: Buffer[] = [];
    let bytes = 0;
    let end = false;
    while (i < slots.length && slots[i]!.done) {
      const s = slots[i]!;
      if (s.out !== null) {
        if (Array.isArray(s.out)) {
          for (const b of s.out) bytes += b.length;
          out.push(...s.out);
        } else {
          bytes += s.out.length;
          out.push(s.out);
        }
      }
      i++;
      if (s.closeAfter) {
        end = true;
        break;
      }
    }
    if (!force && !end && i < slots.length && bytes < EARLY_FLUSH_BYTES) return null;
    this.head = i;
    if (i === slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (i > COMPACT_AT) {
      this.slots = slots.slice(i);
      this.head = 0;
    }
    return { out, end };
  }
}
