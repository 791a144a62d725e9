import net from 'node:net';

/** Bounds on what a target may send or take: a stuck or hostile one costs a line on screen, nothing more. */
const MAX_REPLY_BYTES = 1024 * 1024;
const TIMEOUT_MS = 2000;

/** A `stats` reply as fields; null when the target does not know the group (ERROR). */
export type StatsReply = Map<string, string> | null;

/**
 * One connection to a memcached (or a node, or the proxy) for `top`, asking one `stats` group
 * at a time. A connection that fails, times out or sends too much is closed and made again at
 * the next ask.
 */
export class StatsClient {
  private socket: net.Socket | null = null;
  /** A connection on its way (close() destroys it too). */
  private connecting: net.Socket | null = null;
  /** close() was called: asks fail at once from then on. */
  private closed = false;
  private buffer = '';
  private waiting: { resolve: (r: StatsReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly host: string, private readonly port: number) {}

  async ask(group: string): Promise<StatsReply> {
    if (this.closed) throw new Error('closed');
    const socket = this.socket ?? (await this.connect());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no reply in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      this.waiting = { resolve, reject, timer };
      socket.write(group === '' ? 'stats\r\n' : `stats ${group}\r\n`);
    });
  }

  /** Closes the connection; an ask waiting on it fails at once. */
  close(): void {
    this.closed = true;
    this.connecting?.destroy(new Error('closed'));
    this.fail(new Error('closed'));
  }

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      this.connecting = socket;
      const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), TIMEOUT_MS);
      socket.setEncoding('latin1');
      socket.once('connect', () => {
        clearTimeout(timer);
        this.connecting = null;
        this.socket = socket;
        this.buffer = '';
        resolve(socket);
      });
      socket.on('data', (d: string) => this.read(d));
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (this.connecting === socket) this.connecting = null;
        if (this.socket === socket) this.fail(err);
        else reject(err);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.fail(new Error('connection closed'));
      });
    });
  }

  private read(d: string): void {
    this.buffer += d;
    if (this.buffer.length > MAX_REPLY_BYTES) return this.fail(new Error(`a reply over ${MAX_REPLY_BYTES} bytes`));
    const w = this.waiting;
    if (w === null) return;
    let end = -1;
    if (this.buffer.startsWith('ERROR\r\n') || this.buffer.startsWith('CLIENT_ERROR') || this.buffer.startsWith('SERVER_ERROR')) {
      end = this.buffer.indexOf('\r\n') + 2;
      if (end >= 2) this.settle(null, end);
      return;
    }
    // END alone on its line ends the reply (a value may end in "END" too).
    end = this.buffer.startsWith('END\r\n') ? 0 : this.buffer.indexOf('\r\nEND\r\n');
    if (end < 0) return;
    if (end > 0) end += 2;
    const fields = new Map<string, string>();
    for (const line of this.buffer.slice(0, end).split('\r\n')) {
      if (!line.startsWith('STAT ')) continue;
      const sp = line.indexOf(' ', 5);
      if (sp > 5) fields.set(line.slice(5, sp), line.slice(sp + 1));
    }
    this.settle(fields, end + 5);
  }

  private settle(reply: StatsReply, consumed: number): void {
    const w = this.waiting!;
    this.waiting = null;
    clearTimeout(w.timer);
    this.buffer = this.buffer.slice(consumed);
    w.resolve(reply);
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = null;
    this.socket?.destroy();
    this.socket = null;
    if (w !== null) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
