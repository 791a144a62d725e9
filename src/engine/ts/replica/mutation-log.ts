import type { Item } from '../store/item';
import {
  DELETE_FIXED, encodeDelete, encodeFlush, encodeFlushAt, encodeMetaSet, encodeSet, encodeTouch, FLUSH_AT_SIZE, HEADER,
  metaSetRecordSize, setRecordSize, TOUCH_RECORD_FIXED,
} from './codec';

const INITIAL_CAPACITY = 64 * 1024;
/** A log that grew past this for a burst goes back to INITIAL_CAPACITY once drained. */
const KEEP_CAPACITY = 4 * 1024 * 1024;

/**
 * This node's own writes as replication records, waiting to be drained (once per loop turn at
 * most) by the replication layer. Records applied from the peer are never logged here.
 */
export class MutationLog {
  private buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private len = 0;
  private records = 0;
  private scheduled = false;
  private listener: (() => void) | null = null;
  /** Bytes drained so far: the offset of this node's stream up to the last drain. */
  private drained = 0;

  constructor(private readonly origin: number) {}

  onRecords(listener: () => void): void {
    this.listener = listener;
  }

  /** The stream offset just past every record logged so far (drained or not). */
  get end(): number {
    return this.drained + this.len;
  }

  /** The item as it now is: a plain SET unless it carries meta state (text writes do not change on the wire). */
  set(item: Item): void {
    if (item.metaBits !== 0 || item.explicitCas !== 0n) {
      const m = this.reserve(metaSetRecordSize(item.key.length, item.valueLength));
      this.len = encodeMetaSet(
        this.buf, m, item.key, item.flags, item.exptime, item.version, item.origin, item.touched, item.data, item.valueLength,
        item.metaBits, item.explicitCas,
      );
      return;
    }
    const at = this.reserve(setRecordSize(item.key.length, item.valueLength));
    this.len = encodeSet(this.buf, at, item.key, item.flags, item.exptime, item.version, item.origin, item.touched, item.data, item.valueLength);
  }

  delete(key: string, version: number): void {
    const at = this.reserve(DELETE_FIXED + key.length);
    this.len = encodeDelete(this.buf, at, key, version, this.origin);
  }

  touch(item: Item): void {
    const at = this.reserve(TOUCH_RECORD_FIXED + item.key.length);
    this.len = encodeTouch(this.buf, at, item.key, item.version, item.origin, item.exptime, item.touched);
  }

  flush(version: number): void {
    this.len = encodeFlush(this.buf, this.reserve(HEADER), version, this.origin);
  }

  flushAt(oldestLive: number, version: number): void {
    this.len = encodeFlushAt(this.buf, this.reserve(FLUSH_AT_SIZE), oldestLive, version, this.origin);
  }

  pending(): number {
    return this.len;
  }

  /** Copies the waiting records into `target` at `at` (room checked by the caller); the buffer is kept for the next ones. */
  drainInto(target: Buffer, at: number): number {
    const records = this.records;
    this.buf.copy(target, at, 0, this.len);
    this.drained += this.len;
    this.len = 0;
    this.records = 0;
    if (this.buf.length > KEEP_CAPACITY) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    return records;
  }

  /** Room for one record of `n` bytes; returns where it goes and wakes the drainer once per turn. */
  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.records++;
    if (!this.scheduled && this.listener) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.listener?.();
      });
    }
    return this.len;
  }
}
