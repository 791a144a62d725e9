/**
 * Item versions: a hybrid logical clock, strictly increasing on this node, close to wall time.
 * A version is milliseconds * 1024 + a logical counter, which keeps it an exact JavaScript
 * number (below 2^53) until the year 2248. The CAS unique a client sees is the version, so two
 * replicas holding the same item version report the same CAS.
 */
export const LOGICAL_BITS_FACTOR = 1024;
export const VERSION_UNITS_PER_SECOND = LOGICAL_BITS_FACTOR * 1000;

export class VersionClock {
  private last = 0;

  constructor(private readonly wallMs: () => number = Date.now) {}

  next(): number {
    const physical = this.wallMs() * LOGICAL_BITS_FACTOR;
    this.last = physical > this.last ? physical : this.last + 1;
    return this.last;
  }

  /** The highest version issued or observed so far. */
  get latest(): number {
    return this.last;
  }

  /** A version seen from the peer: later local versions must be higher (causality across replicas). */
  observe(version: number): void {
    if (version > this.last) this.last = version;
  }
}
