import { Item } from './item';
import { Tombstones } from './tombstones';

/**
 * Measured cost of one item in the TypeScript engine beyond its key and data bytes: the Item
 * object, the Map entry, the Buffer object and the key string (V8 heap growth per item over
 * 300,000 items, `npm run bench` reports it as ts_item_overhead; 374 since the meta protocol
 * added the access time, the meta marks and an explicit CAS to every item).
 */
export const TS_ITEM_OVERHEAD = 374;

/** With evictions off (-M), how many items a store looks at for a dead one before giving up, as memcached looks at its LRU tail. */
const RECLAIM_SEARCH_LIMIT = 64;

export interface StoreCounters {
  totalItems: number;
  evictions: number;
  evictedUnfetched: number;
  expiredUnfetched: number;
  reclaimed: number;
  crawlerReclaimed: number;
  /** Lookups that found an item past its expiry (memcached's get_expired), or flushed (get_flushed). */
  expiredOnAccess: number;
  flushedOnAccess: number;
}

export type StoreResult = 'stored' | 'no_memory';

/** A position in the Map's insertion order that survives deletions and starts over after the end. */
class Cursor {
  private iterator: IterableIterator<Item> | null = null;
  /** The item after the position, already taken from the iterator by settle(). */
  private pending: Item | null = null;

  constructor(private readonly items: Map<string, Item>) {}

  /** The next item, or null at the end of a pass (the call after that starts over). */
  next(): Item | null {
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      if (this.items.get(p.key) === p) return p;
    }
    if (!this.iterator) this.iterator = this.items.values();
    const step = this.iterator.next();
    if (!step.done) return step.value;
    this.iterator = null;
    return null;
  }

  /**
   * Fixes the position after the item just returned: when that was the newest item, the next
   * call starts over at the oldest even if items are inserted meanwhile. (A Map iterator would
   * go on into them; SIEVE's hand, which moves from the evicted item towards the newest, wraps
   * to the oldest when there is none.)
   */
  settle(): void {
    if (this.iterator === null || this.pending !== null) return;
    const step = this.iterator.next();
    if (step.done) this.iterator = null;
    else this.pending = step.value;
  }
}

/**
 * The item table: a Map from key (bytes as latin1) to Item, memory accounted against a limit,
 * SIEVE eviction (NSDI 2024) walking the Map's insertion order, lazy expiry on access and an
 * incremental sweep. Knows nothing of the protocol or of sockets.
 */
export class Store {
  private readonly items = new Map<string, Item>();
  private used = 0;
  private readonly hand = new Cursor(this.items);
  private readonly sweeper = new Cursor(this.items);
  /** Items with a version below this were flushed. */
  private flushedBelow = 0;
  /** memcached's delayed flush: once this second has come, items stored at or before it are gone. */
  private oldestLive = 0;
  /** Version of the last flush_all that set or cleared `oldestLive` (a register both replicas agree on). */
  private flushRegisterVersion = 0;
  /** Replicated nodes keep what deletes leave behind; standalone ones need not. */
  readonly tombstones: Tombstones | null;
  readonly counters: StoreCounters = {
    totalItems: 0, evictions: 0, evictedUnfetched: 0, expiredUnfetched: 0, reclaimed: 0, crawlerReclaimed: 0,
    expiredOnAccess: 0, flushedOnAccess: 0,
  };

  constructor(public limitBytes: number, private readonly evictionsEnabled: boolean, replicated = false) {
    this.tombstones = replicated ? new Tombstones() : null;
  }

  get count(): number {
    return this.items.size;
  }

  get bytes(): number {
    return this.used;
  }

  static accountedSize(key: string, data: Buffer): number {
    return key.length + data.length + TS_ITEM_OVERHEAD;
  }

  /** Why an item is invisible, if it is. */
  deadReason(item: Item, now: number): 'expired' | 'flushed' | null {
    if (item.version < this.flushedBelow) return 'flushed';
    if (this.oldestLive !== 0 && this.oldestLive <= now && item.storedAt <= this.oldestLive) return 'flushed';
    if (item.exptime !== 0 && item.exptime <= now) return 'expired';
    return null;
  }

  /** The live item for a key, unlinking it when it has expired or was flushed. */
  get(key: string, now: number): Item | undefined {
    const item = this.items.get(key);
    if (item === undefined) return undefined;
    const dead = this.deadReason(item, now);
    if (dead === null) return item;
    if (dead === 'expired') this.counters.expiredOnAccess++;
    else this.counters.flushedOnAccess++;
    this.unlink(item);
    return undefined;
  }

  /** The item linked under a key, alive or not (the apply rule compares versions of dead items too). */
  raw(key: string): Item | undefined {
    return this.items.get(key);
  }

  /** Every linked item in a stable order that survives changes (for snapshots). */
  values(): IterableIterator<Item> {
    return this.items.values();
  }

  /** Links an item, replacing any previous one for its key, evicting to make room. */
  put(item: Item, now: number): StoreResult {
    const size = Store.accountedSize(item.key, item.data);
    const old = this.items.get(item.key);
    const freed = old ? Store.accountedSize(old.key, old.data) : 0;
    while (this.used - freed + size > this.limitBytes) {
      const made = this.evictionsEnabled
        ? this.evictOne(now, old, 2 * this.items.size + 2, true)
        : this.evictOne(now, old, RECLAIM_SEARCH_LIMIT, false);
      if (!made) return 'no_memory';
    }
    const current = this.items.get(item.key);
    if (current) {
      this.used -= Store.accountedSize(current.key, current.data);
      item.visited = true;
    }
    this.items.set(item.key, item);
    this.used += size;
    this.counters.totalItems++;
    return 'stored';
  }

  delete(key: string): boolean {
    const item = this.items.get(key);
    if (!item) return false;
    this.unlink(item);
    return true;
  }

  /** flush_all: every item older than `version` is gone, and an earlier delayed flush is cancelled. */
  flushAll(version: number): void {
    if (version > this.flushedBelow) this.flushedBelow = version;
    if (version > this.flushRegisterVersion) {
      this.oldestLive = 0;
      this.flushRegisterVersion = version;
    }
  }

  /** memcached's flush_all with a delay: at second `oldestLive`, items stored at or before it vanish. */
  flushAt(oldestLive: number, version: number): void {
    if (version <= this.flushRegisterVersion) return;
    this.oldestLive = oldestLive;
    this.flushRegisterVersion = version;
  }

  get flushState(): { flushedBelow: number; oldestLive: number; registerVersion: number } {
    return { flushedBelow: this.flushedBelow, oldestLive: this.oldestLive, registerVersion: this.flushRegisterVersion };
  }

  /** Removes dead items, visiting at most `budget` entries and one pass at most; resumes where it left off. */
  sweep(now: number, budget: number): void {
    for (let i = 0; i < budget; i++) {
      const item = this.sweeper.next();
      if (!item) return;
      if (this.deadReason(item, now) !== null) {
        this.unlink(item);
        this.counters.crawlerReclaimed++;
      }
    }
  }

  /**
   * Moves the SIEVE hand until one item leaves: a dead one wherever it is met, else (when
   * `allowLive`) the first one not visited since the hand last passed. `keep` never leaves.
   */
  private evictOne(now: number, keep: Item | undefined, maxSteps: number, allowLive: boolean): boolean {
    for (let steps = 0; steps < maxSteps; steps++) {
      const item = this.hand.next();
      if (!item || item === keep) continue;
      if (this.deadReason(item, now) !== null) {
        this.unlinkReclaimed(item);
        this.hand.settle();
        return true;
      }
      if (!allowLive) continue;
      if (item.visited) {
        item.visited = false;
        continue;
      }
      if (!item.fetched) this.counters.evictedUnfetched++;
      this.counters.evictions++;
      this.unlink(item);
      this.hand.settle();
      return true;
    }
    return false;
  }

  private unlinkReclaimed(item: Item): void {
    if (!item.fetched && item.exptime !== 0) this.counters.expiredUnfetched++;
    this.counters.reclaimed++;
    this.unlink(item);
  }

  private unlink(item: Item): void {
    if (this.items.get(item.key) !== item) return;
    this.items.delete(item.key);
    this.used -= Store.accountedSize(item.key, item.data);
  }
}
