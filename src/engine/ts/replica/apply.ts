import { nowSeconds } from '../store/clock';
import { Item, memcachedItemSize } from '../store/item';
import type { Store } from '../store/store';
import { isNewer } from '../store/tombstones';
import type { VersionClock } from '../store/version-clock';
import { decodeRecords, RecordKind } from './codec';

/**
 * The apply rule (docs/replication.md): the higher (version, origin) wins, equal is a no-op, so
 * applying is idempotent and order-independent and both replicas converge. Versions of items
 * that expired but are still linked count too.
 */
export class RecordApplier {
  constructor(
    private readonly store: Store,
    private readonly clock: VersionClock,
    private readonly itemSizeMax: number,
    private readonly casEnabled: boolean,
  ) {}

  /** Applies a batch; throws RecordFormatError on malformed input (after applying what preceded it). */
  apply(batch: Buffer): void {
    const now = nowSeconds();
    const nowMs = Date.now();
    const { store } = this;
    for (const r of decodeRecords(batch)) {
      this.clock.observe(r.version);
      switch (r.kind) {
        case RecordKind.Set:
        case RecordKind.MetaSet: {
          this.clock.observe(r.touched);
          if (r.version < store.flushState.flushedBelow) break;
          const tomb = store.tombstones?.get(r.key);
          if (tomb && !isNewer(r.version, r.origin, tomb.version, tomb.origin)) break;
          const cur = store.raw(r.key);
          if (cur && cur.version === r.version && cur.origin === r.origin) {
            mergeTouch(cur, r.exptime, r.touched);
            break;
          }
          if (cur && !isNewer(r.version, r.origin, cur.version, cur.origin)) break;
          const data = Buffer.allocUnsafeSlow(r.value.length + 2);
          r.value.copy(data);
          data[r.value.length] = 13;
          data[r.value.length + 1] = 10;
          const fits = memcachedItemSize(r.key.length, r.flags, data.length, this.casEnabled) <= this.itemSizeMax;
          // An older value must not outlive a newer one this node cannot hold: a miss is allowed, stale data is not.
          const item = new Item(r.key, r.flags, r.exptime, data, r.version, r.origin, r.touched);
          // The writer's explicit CAS travels with its version: both nodes show the same CAS.
          if (r.kind === RecordKind.MetaSet) {
            item.metaBits = r.metaBits;
            if (this.casEnabled) item.explicitCas = r.explicitCas;
          }
          if (!fits || store.put(item, now) === 'no_memory') {
            store.delete(r.key);
          }
          if (tomb) store.tombstones!.lift(r.key);
          break;
        }
        case RecordKind.Delete: {
          const cur = store.raw(r.key);
          if (cur && !isNewer(r.version, r.origin, cur.version, cur.origin)) break;
          if (cur) store.delete(r.key);
          store.tombstones?.lay(r.key, r.version, r.origin, nowMs);
          break;
        }
        case RecordKind.Touch: {
          this.clock.observe(r.touched);
          const cur = store.raw(r.key);
          if (cur && cur.version === r.version && cur.origin === r.origin) mergeTouch(cur, r.exptime, r.touched);
          break;
        }
        case RecordKind.Flush:
          store.flushAll(r.version);
          break;
        case RecordKind.FlushAt:
          store.flushAt(r.oldestLive, r.version);
          break;
      }
    }
  }
}

/** Touches of one version: the later touch wins; simultaneous ones keep the later expiry (0 = never). */
function mergeTouch(item: Item, exptime: number, touched: number): void {
  if (touched > item.touched || (touched === item.touched && expiresLater(exptime, item.exptime))) {
    item.exptime = exptime;
    item.touched = touched;
  }
}

function expiresLater(a: number, b: number): boolean {
  if (a === b || b === 0) return false;
  return a === 0 || a > b;
}
