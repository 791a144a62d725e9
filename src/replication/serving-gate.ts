import type { Logger } from '../log';

/**
 * Whether a replicating node may accept clients. It opens once, for the first reason that
 * comes (in sync with the peer, no peer to sync from, --serve-stale, ...), and never closes: a
 * node that served once keeps serving when its peer goes away.
 */
export class ServingGate {
  private isOpen = false;
  private release: (() => void) | null = null;

  constructor(private readonly log: Logger) {}

  get open(): boolean {
    return this.isOpen;
  }

  /** Resolves when the gate opens. */
  wait(): Promise<void> {
    // Nothing else holds the event loop open while a replica waits for its sync.
    const keepAlive = setInterval(() => undefined, 60_000);
    return new Promise<void>((resolve) => {
      this.release = () => {
        clearInterval(keepAlive);
        resolve();
      };
    });
  }

  /** Opens the gate, saying why; false when it was open already. */
  allow(why: string): boolean {
    if (this.isOpen) return false;
    this.isOpen = true;
    this.log.info(`replication: accepting clients: ${why}`);
    this.release?.();
    return true;
  }
}
