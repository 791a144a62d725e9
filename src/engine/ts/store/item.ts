import { VERSION_UNITS_PER_SECOND } from './version-clock';

/** State only the meta commands give an item; the values are the META_SET record's meta bits. */
export const enum MetaBit {
  /** memcached's ITEM_STALE: md I, or ms I with an older CAS. */
  Stale = 1,
  /** ITEM_TOKEN_SENT: a win token was handed out; later askers see Z. */
  WinSent = 2,
  /** ITEM_KEY_BINARY: stored with `b`, returned base64-encoded. */
  KeyBinary = 4,
}

/** One cached item. `data` holds the value followed by "\r\n", exactly as it goes on the wire. */
export class Item {
  /** SIEVE's visited bit: set on a hit, cleared by the eviction hand. */
  visited = false;
  /** Whether a client has read it since it was stored (for memcached's *_unfetched stats). */
  fetched = false;
  /** MetaBit flags. */
  metaBits = 0;
  /** The CAS a client chose with E; 0n: none, the version is the CAS. */
  explicitCas = 0n;
  /** Unix second of the last access that bumps it; 0: none since the store (storedAt). */
  atime = 0;

  constructor(
    readonly key: string,
    readonly flags: number,
    /** Absolute unix seconds; 0 never expires. */
    public exptime: number,
    readonly data: Buffer,
    readonly version: number,
    readonly origin: number,
    /** Orders touches of this version (touch keeps the version, so gets-then-cas still works). */
    public touched: number = version,
  ) {}

  /** Unix second of the store (from the version), for delayed flush_all: the same on both replicas. */
  get storedAt(): number {
    return Math.floor(this.version / VERSION_UNITS_PER_SECOND);
  }

  /** The second `mg l` and `me la` count from. */
  get lastAccess(): number {
    return this.atime === 0 ? this.storedAt : this.atime;
  }

  get stale(): boolean {
    return (this.metaBits & MetaBit.Stale) !== 0;
  }

  get winSent(): boolean {
    return (this.metaBits & MetaBit.WinSent) !== 0;
  }

  get keyBinary(): boolean {
    return (this.metaBits & MetaBit.KeyBinary) !== 0;
  }

  /** The CAS clients see and compare against: memcached keeps none with -C. */
  cas(casEnabled: boolean): bigint {
    if (!casEnabled) return 0n;
    return this.explicitCas !== 0n ? this.explicitCas : BigInt(this.version);
  }

  get valueLength(): number {
    return this.data.length - 2;
  }
}

/**
 * memcached's slab_chunk_size_max (half its 1 MB slab page): a larger item is stored in chunks,
 * which incr/decr take for non-numeric (before any CAS compare) and SASL refuses.
 */
export const SLAB_CHUNK_MAX = 512 * 1024;

/** Bytes memcached needs for an item (header, CAS, key + NUL, flags suffix, data): the -I limit applies to this. */
export function memcachedItemSize(keyLength: number, flags: number, dataLength: number, casEnabled: boolean): number {
  return 48 + (casEnabled ? 8 : 0) + keyLength + 1 + (flags !== 0 ? 4 : 0) + dataLength;
}
