import { TOMBSTONE_MAX, TOMBSTONE_TTL_MS } from '../../limits';

/** What a replicated delete leaves behind: the version an older write must not resurrect. */
export interface Tombstone {
  version: number;
  origin: number;
  /** Milliseconds since the epoch when it was laid. */
  at: number;
}

/** Tombstones by key, oldest first (a Map keeps insertion order; re-laying one moves it last). */
export class Tombstones {
  private readonly byKey = new Map<string, Tombstone>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Tombstone | undefined {
    return this.byKey.size === 0 ? undefined : this.byKey.get(key);
  }

  lay(key: string, version: number, origin: number, now: number): void {
    const old = this.byKey.get(key);
    if (old && isNewer(old.version, old.origin, version, origin)) return;
    this.byKey.delete(key);
    this.byKey.set(key, { version, origin, at: now });
    if (this.byKey.size > TOMBSTONE_MAX) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** Lifts the tombstone of a key written again with a newer version. */
  lift(key: string): void {
    this.byKey.delete(key);
  }

  /** Forgets tombstones older than the TTL, looking at `budget` at most. */
  expire(now: number, budget: number): void {
    for (const [key, t] of this.byKey) {
      if (budget-- <= 0 || t.at + TOMBSTONE_TTL_MS > now) return;
      this.byKey.delete(key);
    }
  }

  entries(): IterableIterator<[string, Tombstone]> {
    return this.byKey.entries();
  }
}

/** The apply rule's order: (version, origin), compared as a pair. */
export function isNewer(version: number, origin: number, thanVersion: number, thanOrigin: number): boolean {
  return version > thanVersion || (version === thanVersion && origin > thanOrigin);
}
