/** Where a finished reply goes: the client that asked, which sends replies in request order. */
export interface ReplySink {
  slotDone(): void;
}

/**
 * One request's place in its client's reply order. Replies may finish out of order (different
 * backends); the client sends each only when every earlier one is out.
 */
export class Slot {
  out: Buffer | Buffer[] | null = null;
  done = false;
  /** `quit`: end the connection once every earlier reply is sent. */
  closeAfter = false;

  constructor(private readonly sink: ReplySink) {}

  complete(out: Buffer | Buffer[] | null): void {
    if (this.done) return;
    this.out = out;
    this.done = true;
    this.sink.slotDone();
  }
}

export const SERVER_ERROR_UNAVAILABLE = Buffer.from('SERVER_ERROR backend unavailable\r\n');
export const SERVER_ERROR_TIMEOUT = Buffer.from('SERVER_ERROR backend timeout\r\n');
export const SERVER_ERROR_LOST = Buffer.from('SERVER_ERROR backend connection lost\r\n');
export const SERVER_ERROR_BUSY = Buffer.from('SERVER_ERROR backend overloaded\r\n');
