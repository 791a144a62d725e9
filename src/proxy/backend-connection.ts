import net from 'node:net';
import type { Batcher } from './batcher';
import { ReplyFormatError, ReplyReader, type ReplyShape } from './reply-reader';
import { BACKEND_SEND_HIGH_WATER } from './limits';

/** Why a request did not get its reply. */
export type FailReason = 'timeout' | 'connection' | 'overload';

/** A request sent to a backend: what its reply looks like, and who takes it. */
export interface Pending {
  shape: ReplyShape;
  sentAt: number;
  deliver(reply: Buffer): void;
  fail(reason: FailReason): void;
}

export interface ConnectionEvents {
  /** A reply arrived (the node answers). */
  onReply(latencyMs: number): void;
  /** The connection broke or timed out; `pending` requests were failed. */
  onFailure(reason: FailReason, message: string): void;
}

const READ_BUFFER = 64 * 1024;

/** The request a connection opens with to log in to its backend, and whether a reply means it did. */
export interface Login {
  bytes: Buffer;
  shape: ReplyShape;
  accepted(reply: Buffer): boolean;
}

/**
 * One TCP connection to a backend node, pipelined: requests go out in order (batched into
 * one write per event-loop turn), replies come back in the same order and are matched to the
 * queue of pending requests.
 */
export class BackendConnection {
  private readonly socket: net.Socket;
  private readonly reader: ReplyReader;
  private queue: Pending[] = [];
  private head = 0;
  private outgoing: Buffer[] = [];
  private outgoingBytes = 0;
  private closed = false;

  constructor(
    host: string,
    port: number,
    maxValue: number,
    private readonly events: ConnectionEvents,
    private readonly batcher: Batcher,
    login: Login | null = null,
  ) {
    this.reader = new ReplyReader(maxValue);
    // Reads land in one buffer per connection, handed over without the stream machinery; what
    // is kept past the callback (replies, a partial reply) is copied out of it.
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER);
    this.socket = net.connect({ host, port, onread: { buffer: readBuffer, callback: (n: number) => this.onRead(readBuffer, n) } });
    this.socket.setNoDelay(true);
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail('connection', err.code ?? err.message));
    this.socket.on('close', () => this.fail('connection', 'connection closed'));
    // The login goes first; the requests queued behind it are sent with it (memcached reads
    // them only after it answered) and fail with the connection when it is refused.
    if (login !== null) {
      this.send(login.bytes, {
        shape: login.shape,
        sentAt: performance.now(),
        deliver: (reply) => {
          if (!login.accepted(reply)) this.fail('connection', 'the backend refused the login (--backend-auth)');
        },
        fail: () => undefined,
      });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a request; it is written when the current event's work is done (see flush). */
  send(bytes: Buffer, p: Pending): boolean {
    if (this.closed || this.socket.writableLength + this.outgoingBytes > BACKEND_SEND_HIGH_WATER) return false;
    this.queue.push(p);
    this.outgoing.push(bytes);
    this.outgoingBytes += bytes.length;
    this.batcher.add(this);
    return true;
  }

  flush(): void {
    const n = this.outgoing.length;
    if (n === 0 || this.closed) return;
    const data = n === 1 ? this.outgoing[0]! : Buffer.concat(this.outgoing, this.outgoingBytes);
    this.outgoing = [];
    this.outgoingBytes = 0;
    this.socket.write(data);
  }

  /** Fails the connection when its oldest request has waited longer than `timeoutMs`. */
  checkTimeout(now: number, timeoutMs: number): void {
    const oldest = this.queue[this.head];
    if (oldest && now - oldest.sentAt > timeoutMs) this.fail('timeout', `no reply within ${timeoutMs} ms`);
  }

  /** Closes without counting a failure; pending requests still fail (and may be retried elsewhere). */
  close(): void {
    this.fail('connection', 'closed by the proxy', false);
  }

  /** `onread` callback: keeps the socket flowing (true). */
  private onRead(buffer: Buffer, n: number): boolean {
    this.onData(buffer.subarray(0, n));
    return true;
  }

  private onData(chunk: Buffer): void {
    const reader = this.reader;
    reader.feed(chunk);
    const now = performance.now();
    try {
      while (this.head < this.queue.length) {
        const p = this.queue[this.head]!;
        const reply = reader.next(p.shape);
        if (reply === null) break;
        this.queue[this.head++] = undefined as unknown as Pending;
        this.events.onReply(now - p.sentAt);
        p.deliver(Buffer.from(reply));
      }
    } catch (err) {
      if (err instanceof ReplyFormatError) return this.fail('connection', `unreadable reply: ${err.message}`);
      throw err;
    }
    reader.keepRest();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (reader.buffered > 0) this.fail('connection', 'a reply nobody asked for');
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private fail(reason: FailReason, message: string, counts = true): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.batcher.forget(this);
    const failed = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.outgoing = [];
    if (counts) this.events.onFailure(reason, message);
    for (const p of failed) p.fail(reason);
  }
}
