import net from 'node:net';

/**
 * A raw TCP client for byte-exact protocol tests: send bytes, read until a condition holds.
 * Every read has a deadline; a miss fails with what was awaited and what arrived.
 */
export class RawClient {
  private buf = Buffer.alloc(0);
  private closed = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      // A host that is a path is a unix socket.
      const socket = host.startsWith('/') ? net.connect({ path: host }) : net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new RawClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until `done(received)` gives the length of a complete answer; returns and consumes it. */
  async readUntil(what: string, done: (b: Buffer) => number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = done(this.buf);
      if (n >= 0) {
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return out;
      }
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Reads until `suffix` ends the received bytes. */
  readUntilSuffix(suffix: string, timeoutMs?: number): Promise<string> {
    const s = Buffer.from(suffix, 'latin1');
    return this.readUntil(JSON.stringify(suffix), (b) => (b.length >= s.length && b.subarray(b.length - s.length).equals(s) ? b.length : -1), timeoutMs)
      .then((b) => b.toString('latin1'));
  }

  /** Reads exactly `n` bytes. */
  readBytes(n: number, timeoutMs?: number): Promise<string> {
    return this.readUntil(`${n} bytes`, (b) => (b.length >= n ? n : -1), timeoutMs).then((b) => b.toString('latin1'));
  }

  /** Sends a request and reads one reply ending in `\r\n` (or `END\r\n` for retrievals). */
  async call(request: string, terminator = '\r\n', timeoutMs?: number): Promise<string> {
    this.send(request);
    return this.readUntilSuffix(terminator, timeoutMs);
  }

  /** Waits for the server to close; returns whatever arrived before. */
  async readToClose(timeoutMs = 5000): Promise<string> {
    const b = await this.readUntil('the server to close the connection', (x) => (this.closed ? x.length : -1), timeoutMs);
    return b.toString('latin1');
  }

  /** Resolves true if nothing arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    const before = this.buf.length;
    await new Promise((r) => setTimeout(r, ms));
    return this.buf.length === before;
  }

  /** Half-closes: the server reads the end of input after what was sent. */
  endInput(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
