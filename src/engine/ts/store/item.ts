import { VERSION_UNITS_PER_SECOND } from './version-clock';

/** One cached item. `data` holds the value followed by "\r\n", exactly as it goes on the wire. */
export class Item {
  /** SIEVE's visited bit: set on a hit, cleared by the eviction hand. */
  visited = false;
  /** Whether a client has read it since it was stored (for memcached's *_unfetched stats). */
  fetched = false;

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

  get valueLength(): number {
    return this.data.length - 2;
  }
}

/** Bytes memcached needs for an item (header, CAS, key + NUL, flags suffix, data): the -I limit applies to this. */
export function memcachedItemSize(keyLength: number, flags: number, dataLength: number, casEnabled: boolean): number {
  return 48 + (casEnabled ? 8 : 0) + keyLength + 1 + (flags !== 0 ? 4 : 0) + dataLength;
}
