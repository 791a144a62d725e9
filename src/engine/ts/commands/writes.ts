import { parseU64 } from '../../../protocol/numbers';
import type { StoreOp } from '../../../protocol/request';
import { Item, MetaBit, memcachedItemSize, SLAB_CHUNK_MAX } from '../store/item';
import type { CommandHost } from './execute';
import type { CommandCounters } from './counters';

const U64 = (1n << 64n) - 1n;

/** What a store command asks of do_store_item, text and meta alike. */
export interface StoreArgs {
  key: string;
  flags: number;
  /** Absolute unix second; 0 never. */
  exptime: number;
  /** The value followed by "\r\n". */
  data: Buffer;
  /** The CAS to compare; 0n: none. */
  cas: bigint;
  /** ms I: a cas older than the item's still stores, as a stale value (memcached's CAS_STALE). */
  staleOnOlder: boolean;
  /** ms N in append/prepend mode: a miss creates the item with this expiry. */
  vivifyExptime: number | null;
  /** E: the new item's CAS; 0n: the version. */
  newCas: bigint;
  keyBinary: boolean;
}

export type StoreStatus = 'STORED' | 'EXISTS' | 'NOT_FOUND' | 'NOT_STORED' | 'NO_MEMORY';

export type DeltaOutcome =
  | { status: 'OK'; item: Item; digits: string; inPlace: boolean }
  | { status: 'NOT_FOUND' | 'NON_NUMERIC' | 'EXISTS' | 'NO_MEMORY' };

/**
 * The writes text and meta commands share, as memcached's do_store_item and do_add_delta do
 * them, with the replication log kept in step. Counters are counted where memcached counts them.
 */
export class ItemWrites {
  constructor(private readonly host: CommandHost, private readonly counters: CommandCounters) {}

  /** do_store_item. Returns the status and, when stored, the item now linked. */
  store(op: StoreOp, a: StoreArgs, now: number): { status: StoreStatus; item: Item | null } {
    const { store, settings } = this.host;
    const old = store.get(a.key, now);
    let { flags, exptime, data } = a;
    let metaBits = a.keyBinary ? MetaBit.KeyBinary : 0;
    if (old) {
      const oldCas = old.cas(settings.casEnabled);
      const cas = a.cas === 0n ? 'none' : a.cas === oldCas ? 'match' : a.staleOnOlder && a.cas < oldCas ? 'stale' : 'badval';
      switch (op) {
        case 'add':
          old.visited = true;
          return { status: 'NOT_STORED', item: null };
        case 'cas':
          if (cas === 'badval' || cas === 'none') {
            this.counters.cas_badval++;
            return { status: 'EXISTS', item: null };
          }
          this.counters.cas_hits++;
          if (cas === 'stale') {
            // The value is replaced, the expiry, the stale mark and a handed-out token are kept.
            exptime = old.exptime;
            metaBits |= MetaBit.Stale | (old.metaBits & MetaBit.WinSent);
          }
          break;
        case 'append':
        case 'prepend': {
          if (cas !== 'none' && cas !== 'match') return { status: 'EXISTS', item: null };
          flags = old.flags;
          exptime = old.exptime;
          // memcached builds a new item: no meta marks carry over.
          metaBits = 0;
          const value = old.data.subarray(0, old.data.length - 2);
          data = op === 'append' ? Buffer.concat([value, data]) : Buffer.concat([data.subarray(0, data.length - 2), old.data]);
          if (memcachedItemSize(a.key.length, flags, data.length, settings.casEnabled) > settings.itemSizeMax) {
            return { status: 'NOT_STORED', item: null };
          }
          break;
        }
        case 'replace':
        case 'set':
          break;
      }
    } else {
      switch (op) {
        case 'cas':
          this.counters.cas_misses++;
          return { status: 'NOT_FOUND', item: null };
        case 'replace':
          return { status: 'NOT_STORED', item: null };
        case 'append':
        case 'prepend':
          if (a.vivifyExptime === null) return { status: 'NOT_STORED', item: null };
          exptime = a.vivifyExptime;
          break;
        case 'add':
        case 'set':
          break;
      }
    }
    const item = new Item(a.key, flags, exptime, data, this.host.clock.next(), this.host.nodeId);
    item.metaBits = metaBits;
    if (settings.casEnabled) item.explicitCas = a.newCas;
    if (store.put(item, now) === 'no_memory') {
      // No room for the joined value: memcached's NOT_STORED, as when it cannot allocate it.
      if (old && (op === 'append' || op === 'prepend')) return { status: 'NOT_STORED', item: null };
      this.counters.store_no_memory++;
      if (op === 'set') this.removeStale(a.key);
      return { status: 'NO_MEMORY', item: null };
    }
    this.host.log?.set(item);
    return { status: 'STORED', item };
  }

  /**
   * do_add_delta, without the miss counters (ma counts a miss only when it does not create).
   * A number that still fits is rewritten in place (padded with spaces), keeping the item's
   * marks and last access, but only while nothing else refers to the item (memcached's
   * refcount == 2): when a reply not yet transmitted holds it (`held`), or the number grew,
   * a new unpadded item replaces it, without the marks. The caller logs the result.
   */
  addDelta(key: string, incr: boolean, delta: bigint, cas: bigint, newCas: bigint, now: number, held: (item: Item) => boolean): DeltaOutcome {
    const { store, settings } = this.host;
    const old = store.get(key, now);
    if (!old) return { status: 'NOT_FOUND' };
    if (old.data.length <= 2 || memcachedItemSize(key.length, old.flags, old.data.length, settings.casEnabled) > SLAB_CHUNK_MAX) {
      return { status: 'NON_NUMERIC' };
    }
    if (cas !== 0n && old.cas(settings.casEnabled) !== cas) return { status: 'EXISTS' };
    const current = parseU64(old.data.toString('latin1'));
    if (current === null) return { status: 'NON_NUMERIC' };
    if (incr) this.counters.incr_hits++;
    else this.counters.decr_hits++;
    const next = incr ? (current + delta) & U64 : delta > current ? 0n : current - delta;
    const digits = next.toString();
    const width = old.valueLength;
    const inPlace = digits.length <= width && !held(old);
    const text = inPlace ? digits + ' '.repeat(width - digits.length) : digits;
    const item = new Item(key, old.flags, old.exptime, Buffer.from(text + '\r\n', 'latin1'), this.host.clock.next(), this.host.nodeId);
    item.visited = true;
    if (inPlace) {
      // The same item in memcached: marks, fetched and its last access stay.
      item.metaBits = old.metaBits;
      item.fetched = old.fetched;
      item.atime = old.lastAccess;
    }
    if (settings.casEnabled) item.explicitCas = newCas;
    if (store.put(item, now) === 'no_memory') return { status: 'NO_MEMORY' };
    return { status: 'OK', item, digits, inPlace };
  }

  /** A new expiry, same version (gets-then-cas still works); `touched` orders it on the peer. */
  touch(item: Item, exptime: number): void {
    item.exptime = exptime;
    if (!this.host.log) return;
    item.touched = this.host.clock.next();
    this.host.log.touch(item);
  }

  /** An item rewritten in place by a meta command (md I, ma T): a new version, so the peer takes it. */
  rewrite(old: Item, exptime: number, metaBits: number, explicitCas: bigint, data: Buffer, flags: number, now: number): Item | null {
    const item = new Item(old.key, flags, exptime, data, this.host.clock.next(), this.host.nodeId);
    item.metaBits = metaBits;
    if (this.host.settings.casEnabled) item.explicitCas = explicitCas;
    item.fetched = old.fetched;
    item.atime = old.atime;
    item.visited = old.visited;
    if (this.host.store.put(item, now) === 'no_memory') return null;
    this.host.log?.set(item);
    return item;
  }

  /** Removes a key as a versioned delete: the peer drops it too, and older writes cannot bring it back. */
  removeStale(key: string): void {
    const { store, log } = this.host;
    store.delete(key);
    if (!log) return;
    const version = this.host.clock.next();
    store.tombstones?.lay(key, version, this.host.nodeId, Date.now());
    log.delete(key, version);
  }
}
