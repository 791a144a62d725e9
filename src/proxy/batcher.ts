/** Anything that sends what it queued during one event in a single write. */
export interface Flushable {
  flush(): void;
}

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

  add(c: Flushable): void {
    this.dirty.add(c);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  forget(c: Flushable): void {
    this.dirty.delete(c);
  }
}
