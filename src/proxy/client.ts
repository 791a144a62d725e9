import type { Socket } from 'node:net';
import type { Logger } from '../log';
import { isGetLine, lineMayGrow, MAX_COMPLETE_LINE } from '../protocol/line-limits';
import { fillBlock, skipBlock } from '../protocol/data-block';
import { PendingInput } from '../protocol/pending-input';
import { parseRequest, type Request } from '../protocol/request';
import { OUTPUT_HIGH_WATER } from '../net-limits';
import type { Batcher } from './batcher';
import type { Dispatcher, Mirror } from './dispatcher';
import { FRAME_INTS, FRAME_KINDS, type NativeFramer } from './native-framer';
import { Slot, type ReplySink } from './slot';

/** What a client connection needs from the proxy besides routing. */
export interface ClientHost {
  readonly dispatcher: Dispatcher;
  readonly maxValue: number;
  readonly log: Logger;
  readonly versionLine: Buffer;
  /** The whole reply to a `stats` request, or null for a sub-command the proxy does not know. */
  stats(args: string[]): Buffer | null;
  setVerbosity(level: number): void;
  readonly batcher: Batcher;
  /** The addon's framer, when it loaded (and no backup pool needs the keys themselves). */
  readonly framer: NativeFramer | null;
}

type StoreReq = Extract<Request, { kind: 'store' }>;
type State =
  | { kind: 'line' }
  | { kind: 'data'; req: StoreReq; line: Buffer; data: Buffer; filled: number }
  | { kind: 'swallow'; left: number };

const LINE: State = { kind: 'line' };
/** Stop reading from a client with this many requests waiting for replies. */
const MAX_IN_FLIGHT = 4096;
const CLOSE_LINGER_MS = 10_000;
const END_LINGER_MS = 2_000;
/** Replies waiting for the rest of their batch are sent anyway once this much is ready. */
const EARLY_FLUSH_BYTES = 16 * 1024;

const line = (text: string): Buffer => Buffer.from(`${text}\r\n`, 'latin1');
const MN = line('MN');
const ERROR = line('ERROR');
const OK = line('OK');
const NO_SHUTDOWN = line('ERROR: shutdown not enabled');
const BAD_CHUNK = line('CLIENT_ERROR bad data chunk');
const TOO_LARGE = line('SERVER_ERROR object too large for cache');
const STORED = line('STORED');
const TOUCHED = line('TOUCHED');
const DELETED = line('DELETED');
const NOT_FOUND = line('NOT_FOUND');

/**
 * What the backup pool gets after the main node answered a write: what the main now holds, or
 * nothing. A value the main stored whole is copied as a set; one the main changed in place
 * (append, prepend, incr, decr) is deleted from the backup, which cannot apply the same change
 * to a value it may not have: the backup holds the main's value or none, never another.
 */
function storeMirror(req: StoreReq, data: Buffer): Mirror {
  return (reply) => {
    if (!reply.equals(STORED)) return null;
    if (req.op === 'append' || req.op === 'prepend') return line(`delete ${req.key}`);
    return Buffer.concat([line(`set ${req.key} ${req.flags} ${req.exptime} ${req.bytes}`), data]);
  };
}

/** A delete is copied whether the main found the key or not: a restarted main may have lost it. */
function deleteMirror(key: string): Mirror {
  return (reply) => (reply.equals(DELETED) || reply.equals(NOT_FOUND) ? line(`delete ${key}`) : null);
}

function arithMirror(key: string): Mirror {
  return (reply) => (reply[0]! >= 48 && reply[0]! <= 57 ? line(`delete ${key}`) : null);
}

function touchMirror(touch: Buffer): Mirror {
  return (reply) => (reply.equals(TOUCHED) ? touch : null);
}

/**
 * One client of the proxy: frames its requests exactly as memcached does (same limits, same
 * error lines, answered here without a backend), hands the rest to the dispatcher, and sends
 * the replies back in request order, batched per event.
 */
export class ClientConnection implements ReplySink {
  private state: State = LINE;
  private readonly pending = new PendingInput();
  private slots: Slot[] = [];
  private head = 0;
  private paused = false;
  private closing = false;

  constructor(private readonly socket: Socket, private readonly host: ClientHost, readonly lane: number) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    // The server allows half-open sockets: a client that sends its requests and shuts its side
    // (printf ... | nc) still gets every reply, then the connection ends, as with memcached.
    socket.on('end', () => this.quit());
    socket.on('error', () => socket.destroy());
  }

  slotDone(): void {
    const s = this.slots[this.head];
    if (s && s.done) this.host.batcher.add(this);
  }

  /**
   * Sends every finished reply at the head of the order, in one write. While later replies of
   * a pipelined batch are still on their way, small output waits for them (at most until the
   * batcher's next tick, ~1 ms): one write per batch instead of one per backend read.
   */
  flush(force = false): void {
    let i = this.head;
    const slots = this.slots;
    const out: Buffer[] = [];
    let bytes = 0;
    let end = false;
    while (i < slots.length && slots[i]!.done) {
      const s = slots[i]!;
      if (s.out !== null) {
        if (Array.isArray(s.out)) {
          for (const b of s.out) bytes += b.length;
          out.push(...s.out);
        } else {
          bytes += s.out.length;
          out.push(s.out);
        }
      }
      i++;
      if (s.closeAfter) {
        end = true;
        break;
      }
    }
    if (!force && !end && i < slots.length && bytes < EARLY_FLUSH_BYTES) {
      this.host.batcher.later(this);
      return;
    }
    this.head = i;
    if (i === slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (i > 1024) {
      this.slots = slots.slice(i);
      this.head = 0;
    }
    if (!this.socket.destroyed && out.length > 0) {
      if (out.length === 1) this.socket.write(out[0]!);
      else this.socket.write(Buffer.concat(out));
    }
    if (end) return this.close();
    this.maybeResume();
  }

  /** Shutdown: ends the connection; a client that does not close its side is cut off soon after. */
  end(): void {
    this.closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_LINGER_MS).unref();
  }

  private get inFlight(): number {
    return this.slots.length - this.head;
  }

  private maybeResume(): void {
    if (!this.paused || this.closing) return;
    if (this.inFlight >= MAX_IN_FLIGHT || this.socket.writableLength >= OUTPUT_HIGH_WATER) return;
    this.paused = false;
    this.socket.resume();
    const rest = this.pending.take();
    if (rest) this.process(rest);
  }

  /** Input read before this connection took the socket over (from the C++ data path). */
  feed(chunk: Buffer): void {
    if (chunk.length > 0) this.onData(chunk);
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const ready = this.pending.add(chunk, this.state.kind === 'line');
    if (ready === 'close') return this.quit();
    if (ready === null) return;
    this.process(ready);
  }

  private process(buf: Buffer): void {
    let off = 0;
    const end = buf.length;
    while (off < end && !this.closing) {
      const st = this.state;
      if (st.kind === 'swallow') {
        off = skipBlock(st, off, end);
        if (st.left === 0) this.state = LINE;
        continue;
      }
      if (st.kind === 'data') {
        off = fillBlock(st, buf, off, end);
        if (st.filled < st.data.length) break;
        this.state = LINE;
        this.store(st.req, st.line, st.data, null);
      } else {
        const framer = this.host.framer;
        if (framer !== null) {
          const n = framer.frame(buf, off);
          if (n > 0) {
            off = this.forwardFramed(buf, framer.out, n);
            if (this.inFlight >= MAX_IN_FLIGHT || this.socket.writableLength >= OUTPUT_HIGH_WATER) {
              this.paused = true;
              this.socket.pause();
              break;
            }
            continue;
          }
        }
        const nl = buf.indexOf(10, off);
        if (nl < 0) {
          // memcached closes here, after the replies to what came before.
          if (!lineMayGrow(buf, off, end - off)) return this.quit();
          break;
        }
        if (nl - off > MAX_COMPLETE_LINE && !isGetLine(buf, off)) return this.quit();
        const lineEnd = nl - off > 1 && buf[nl - 1] === 13 ? nl - 1 : nl;
        const req = parseRequest(buf, off, lineEnd);
        const lineStart = off;
        const raw = buf.subarray(lineStart, nl + 1);
        off = nl + 1;
        this.host.dispatcher.counters.requests++;
        if (req.kind === 'store') {
          if (req.bytes > this.host.maxValue) {
            if (!req.noreply) this.local(TOO_LARGE);
            // memcached drops the old value of a key whose set failed: a stale value must not outlive the write.
            if (req.op === 'set') this.host.dispatcher.write(req.key, line(`delete ${req.key}`), null, false, this.lane, this.host.dispatcher.backups && deleteMirror(req.key));
            this.state = { kind: 'swallow', left: req.bytes + 2 };
            continue;
          }
          const need = req.bytes + 2;
          if (end - off >= need) {
            this.store(req, raw, buf.subarray(off, off + need), buf.subarray(lineStart, off + need));
            off += need;
          } else {
            this.state = { kind: 'data', req, line: raw, data: Buffer.allocUnsafe(need), filled: 0 };
          }
          continue;
        }
        if (!this.execute(req, raw)) break;
      }
      if (this.inFlight >= MAX_IN_FLIGHT || this.socket.writableLength >= OUTPUT_HIGH_WATER) {
        this.paused = true;
        this.socket.pause();
        break;
      }
    }
    if (off < end && !this.closing) this.pending.keep(buf.subarray(off));
  }

  /** Sends what the native framer read; returns where its last request ended. */
  private forwardFramed(buf: Buffer, out: Int32Array, n: number): number {
    const d = this.host.dispatcher;
    const c = d.counters;
    let end = 0;
    for (let i = 0; i < n; i++) {
      const at = i * FRAME_INTS;
      const kind = FRAME_KINDS[out[at]!]!;
      end = out[at + 2]!;
      c.requests++;
      if (kind.counts === 'get') c.cmdGet++;
      else if (kind.counts === 'set') c.cmdSet++;
      else if (kind.counts === 'touch') c.cmdTouch++;
      d.forwardHashed(out[at + 3]!, buf.subarray(out[at + 1]!, end), kind.shape, this.newSlot(), kind.retryable, this.lane);
    }
    return end;
  }

  /** A storage command with its data block; `whole` is line + block when they are contiguous. */
  private store(req: StoreReq, raw: Buffer, data: Buffer, whole: Buffer | null): void {
    const d = this.host.dispatcher;
    d.counters.cmdSet++;
    if (data[data.length - 2] !== 13 || data[data.length - 1] !== 10) {
      if (!req.noreply) this.local(BAD_CHUNK);
      return;
    }
    let bytes: Buffer;
    if (req.noreply) {
      const cas = req.op === 'cas' ? ` ${req.cas}` : '';
      bytes = Buffer.concat([line(`${req.op} ${req.key} ${req.flags} ${req.exptime} ${req.bytes}${cas}`), data]);
    } else {
      bytes = whole ?? Buffer.concat([raw, data]);
    }
    d.write(req.key, bytes, req.noreply ? null : this.newSlot(), req.op === 'set', this.lane, d.backups === null ? null : storeMirror(req, data));
  }

  /** Runs one request that is not a storage command. Returns false when the connection ends. */
  private execute(req: Request, raw: Buffer): boolean {
    const d = this.host.dispatcher;
    switch (req.kind) {
      case 'get': {
        d.counters.cmdGet += req.keys.length;
        if (req.touch) d.counters.cmdTouch += req.keys.length;
        if (req.badKey) {
          this.local(line('CLIENT_ERROR bad command line format'));
        } else {
          const cmd = `${req.touch ? 'gat' : 'get'}${req.withCas ? 's' : ''}`;
          d.get(req.touch ? `${cmd} ${req.exptime}` : cmd, req.keys, raw, this.newSlot(), this.lane);
        }
        return true;
      }
      case 'arith':
        this.keyed(req.key, req.noreply ? line(`${req.incr ? 'incr' : 'decr'} ${req.key} ${req.delta}`) : raw, req.noreply, false, d.backups && arithMirror(req.key));
        return true;
      case 'delete':
        this.keyed(req.key, req.noreply ? line(`delete ${req.key}`) : raw, req.noreply, true, d.backups && deleteMirror(req.key));
        return true;
      case 'touch': {
        d.counters.cmdTouch++;
        const touch = line(`touch ${req.key} ${req.exptime}`);
        this.keyed(req.key, req.noreply ? touch : raw, req.noreply, true, d.backups && touchMirror(touch));
        return true;
      }
      case 'flush_all':
        if (req.delay === null) {
          if (!req.noreply) this.local(line('CLIENT_ERROR invalid exptime argument'));
          return true;
        }
        d.counters.cmdFlush++;
        d.flushAll(line(`flush_all ${req.delay}`), req.noreply ? null : this.newSlot(), this.lane);
        return true;
      case 'stats': {
        this.local(this.host.stats(req.args) ?? ERROR);
        return true;
      }
      case 'version':
        this.local(this.host.versionLine);
        return true;
      case 'verbosity':
        this.host.setVerbosity(Math.min(req.level, 2));
        if (!req.noreply) this.local(OK);
        return true;
      case 'mn':
        this.local(MN);
        return true;
      case 'shutdown':
        this.local(NO_SHUTDOWN);
        return true;
      case 'error':
        if (!req.noreply) this.local(line(req.message));
        return true;
      case 'quit':
        this.quit();
        return false;
      case 'close':
        this.closing = true;
        this.socket.destroy();
        return false;
      case 'store':
        throw new Error('storage commands are framed before execute');
    }
  }

  /** Ends the connection once every reply asked for so far is sent. */
  private quit(): void {
    if (this.closing) return;
    this.closing = true;
    const s = this.newSlot();
    s.closeAfter = true;
    s.complete(null);
  }

  private keyed(key: string, bytes: Buffer, noreply: boolean, retryable: boolean, mirror: Mirror | null): void {
    this.host.dispatcher.write(key, bytes, noreply ? null : this.newSlot(), retryable, this.lane, mirror);
  }

  private newSlot(): Slot {
    const s = new Slot(this);
    this.slots.push(s);
    return s;
  }

  private local(reply: Buffer): void {
    this.newSlot().complete(reply);
  }

  private close(): void {
    this.closing = true;
    this.pending.clear();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }
}
