/** Anything that sends what it queued during one event in a single write. */
export interface Flushable {
  /** `force`: send what is ready even if the connection would rather wait for more. */
  flush(force?: boolean): void;
}

/** How long output may wait for the rest of its batch. */
const LATER_MS = 1;

/**
 * Collects the connections that have output during one turn of the event loop and flushes
 * each once, after every I/O callback of that turn ran (setImmediate): requests from many
 * clients that arrive together leave together, in one write per backend connection.
 */
export class Batcher {
  private readonly dirty = new Set<Flushable>();
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    // Flushing clients may queue more backend work (and the reverse): drain until quiet.
    for (const c of this.dirty) {
      this.dirty.delete(c);
      c.flush();
    }
  };

  private readonly waiting = new Set<Flushable>();
  private timer: NodeJS.Timeout | null = null;
  private readonly runLater = (): void => {
    this.timer = null;
    for (const c of this.waiting) {
      this.waiting.delete(c);
      c.flush(true);
    }
  };

  /** Flushes `c` (forced) after a short wait, unless it flushes by itself before. */
  later(c: Flushable): void {
    this.waiting.add(c);
    this.timer ??= setTimeout(this.runLater, LATER_MS);
  }

  add(c: Flushable): void {
    this.dirty.add(c);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  forget(c: Flushable): void {
    this.dirty.delete(c);
    this.waiting.delete(c);
  }
}
