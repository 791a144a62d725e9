import type { SnapshotChunk } from '../../replica';
import type { Item } from '../store/item';
import type { Store } from '../store/store';
import type { VersionClock } from '../store/version-clock';
import {
  DELETE_FIXED, encodeDelete, encodeFlush, encodeFlushAt, encodeMetaSet, encodeSet, FLUSH_AT_SIZE, HEADER, metaSetRecordSize,
  setRecordSize,
} from './codec';

/**
 * A full sync's view of the store, read in chunks while writes go on. Items written after the
 * snapshot began are left out: they travel in the live stream, which also keeps the walk from
 * chasing new insertions forever. Expired items still linked are included: their versions
 * decide against older values the peer may hold.
 */
export class SnapshotReader {
  private items: IterableIterator<Item> | null = null;
  private below = 0;
  private first = true;

  constructor(private readonly store: Store, private readonly clock: VersionClock, private readonly origin: number) {}

  begin(): number {
    this.items = this.store.values();
    this.below = this.clock.latest + 1;
    this.first = true;
    return this.store.count;
  }

  next(maxBytes: number): SnapshotChunk | null {
    if (!this.items) return null;
    const parts: Buffer[] = [];
    let bytes = 0;
    if (this.first) {
      this.first = false;
      const meta = this.metadata();
      parts.push(meta);
      bytes += meta.length;
    }
    let count = 0;
    const { flushedBelow } = this.store.flushState;
    while (bytes < maxBytes) {
      const step = this.items.next();
      if (step.done) {
        this.items = null;
        break;
      }
      const it = step.value;
      if (it.version >= this.below || it.version < flushedBelow) continue;
      const buf = itemRecord(it);
      parts.push(buf);
      bytes += buf.length;
      count++;
    }
    if (parts.length === 0) return null;
    return { bytes: Buffer.concat(parts, bytes), items: count };
  }

  /** Flush state and tombstones, sent before the first item. */
  private metadata(): Buffer {
    const { flushedBelow, oldestLive, registerVersion } = this.store.flushState;
    const parts: Buffer[] = [];
    if (flushedBelow > 0) {
      const b = Buffer.allocUnsafe(HEADER);
      encodeFlush(b, 0, flushedBelow, this.origin);
      parts.push(b);
    }
    if (registerVersion > flushedBelow) {
      const b = Buffer.allocUnsafe(FLUSH_AT_SIZE);
      encodeFlushAt(b, 0, oldestLive, registerVersion, this.origin);
      parts.push(b);
    }
    for (const [key, t] of this.store.tombstones?.entries() ?? []) {
      const b = Buffer.allocUnsafe(DELETE_FIXED + key.length);
      encodeDelete(b, 0, key, t.version, t.origin);
      parts.push(b);
    }
    return Buffer.concat(parts);
  }
}

/** An item's record: META_SET when it carries meta state, SET otherwise (as the live log encodes it). */
function itemRecord(it: Item): Buffer {
  if (it.metaBits !== 0 || it.explicitCas !== 0n) {
    const buf = Buffer.allocUnsafe(metaSetRecordSize(it.key.length, it.valueLength));
    encodeMetaSet(buf, 0, it.key, it.flags, it.exptime, it.version, it.origin, it.touched, it.data, it.valueLength, it.metaBits, it.explicitCas);
    return buf;
  }
  const buf = Buffer.allocUnsafe(setRecordSize(it.key.length, it.valueLength));
  encodeSet(buf, 0, it.key, it.flags, it.exptime, it.version, it.origin, it.touched, it.data, it.valueLength);
  return buf;
}
