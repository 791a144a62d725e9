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
    /** Unix second of the store, for delayed flush_all. */
    readonly storedAt: number,
  ) {}

  get valueLength(): number {
    return this.data.length - 2;
  }
}

/** Bytes memcached needs for an item (header, CAS, key + NUL, flags suffix, data): the -I limit applies to this. */
export function memcachedItemSize(keyLength: number, flags: number, dataLength: number, casEnabled: boolean): number {
  return 48 + (casEnabled ? 8 : 0) + keyLength + 1 + (flags !== 0 ? 4 : 0) + dataLength;
}
