import type { Socket } from 'node:net';
import type { Logger } from '../../../log';
import type { Commands } from '../commands/execute';
import type { ConnectionCounters } from '../commands/counters';
import type { ConnectionInfo } from '../commands/stats';
import { parseRequest, type MetaSetRequest, type StoreRequest } from '../../../protocol/request';
import { nowSeconds } from '../store/clock';
import { ReplyWriter } from '../../../protocol/reply-writer';
import type { GatedConnection, HeldReplies, SyncGate } from './sync-gate';
import { findLine, LINE_CLOSES, LINE_INCOMPLETE } from '../../../protocol/line-limits';
import { fillBlock, skipBlock } from '../../../protocol/data-block';
import { PendingInput } from '../../../protocol/pending-input';
import { OUTPUT_HIGH_WATER } from '../../../net-limits';
import { OUTPUT_FLUSH_AT } from '../../limits';
import { decodeHeader, HEADER_LENGTH, opcodeName, READ_BUFFER_SIZE, REQUEST_MAGIC } from '../../../protocol/binary';
import type { BinaryNext, BinarySession, PendingValue } from '../commands/binary';
import { MAX_COMMAND_LINE } from '../../../protocol/line-limits';
import { MAX_WORDS, tokenize } from '../../../protocol/tokens';
import { parseU32 } from '../../../protocol/numbers';

type State =
  | { kind: 'line' }
  | { kind: 'data'; req: StoreRequest | MetaSetRequest; data: Buffer; filled: number }
  | { kind: 'swallow'; left: number }
  /** Binary: the next packet's header, extras and key. */
  | { kind: 'packet' }
  /** Binary: a command's value. */
  | { kind: 'value'; pending: PendingValue; data: Buffer; filled: number }
  /** -Y, unauthenticated: the `set` line, then (`need` > 0) its data, read whole from the buffer. */
  | { kind: 'auth'; need: number };

const LINE: State = { kind: 'line' };
const PACKET: State = { kind: 'packet' };
const CLOSE_LINGER_MS = 10_000;
/** What a connection waiting for its next turn after a yield reads ahead before it pauses. */
const READ_AHEAD = 64 * 1024;
/** A failed authentication's reply waits this long, the connection reading nothing meanwhile. */
const AUTH_FAILURE_DELAY_MS = 500;

/**
 * One client: buffers input until a command is complete, runs it, batches the replies of a
 * pipelined read into one write, and stops reading while the client does not read its output.
 * Every length that comes from the network is bounded before anything is buffered.
 */
export class Connection implements GatedConnection {
  private state: State = LINE;
  /** Unconsumed input: the start of an incomplete line, kept as received chunks. */
  private readonly pending = new PendingInput();
  private readonly out = new ReplyWriter();
  private waitingForDrain = false;
  private closing = false;
  /** memcached's visits to conn_new_cmd in this event, which -R bounds (see completed()). */
  private visits = 0;
  /** A reply composed since the last transmit point (memcached's resp_head). */
  private replyPending = false;
  /** This event stopped at -R; with commands left, the next one goes on from there. */
  private yielded = false;
  private goesOn = false;
  /** Waiting for the next loop turn to go on with buffered commands after a yield. */
  private resumeQueued = false;
  /** The client finished sending; what it sent before is answered first. */
  private inputEnded = false;
  private processing = false;
  private lastCommandAt = nowSeconds();
  /** Sync mode: replies waiting for the peer's acknowledgement, oldest first. */
  private held: HeldReplies[] = [];
  private heldBytes = 0;
  /** The log's end when this connection last looked: a change means its commands wrote. */
  private seenLogEnd = 0;
  /** Closing, but replies still wait for the peer: end once they are out. */
  private endAfterRelease = false;
  /** Which protocol this connection speaks: chosen from its first byte unless -B, -S or -Y decided. */
  private protocol: 'unknown' | 'text' | 'binary';
  private readonly session: BinarySession = { authenticated: false, saslStarted: false };
  /** Waiting out a failed authentication's delay. */
  private delayed = false;

  constructor(
    private readonly socket: Socket,
    private readonly commands: Commands,
    private readonly counters: ConnectionCounters,
    private readonly log: Logger,
    private readonly id: number,
    private readonly gate: SyncGate | null,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('end', () => this.onEnd());
    socket.on('error', () => socket.destroy());
    if (gate) socket.once('close', () => gate.forget(this));
    const { settings } = commands;
    this.protocol = settings.protocol === 'binary' ? 'binary' : settings.protocol === 'ascii' ? 'text' : 'unknown';
    if (this.protocol === 'binary') this.state = PACKET;
    if (settings.asciiAuth) this.state = { kind: 'auth', need: 0 };
  }

  /** The peer acknowledged up to `acked` (null: no peer any more): send what may go now. */
  release(acked: number | null): void {
    let n = 0;
    while (n < this.held.length && (acked === null || this.held[n]!.offset <= acked)) n++;
    if (n === 0) return;
    const ready = this.held.splice(0, n);
    if (this.held.length === 0) this.gate?.forget(this);
    for (const h of ready) {
      this.heldBytes -= h.bytes;
      this.send(h.segments);
    }
    if (this.held.length === 0 && this.endAfterRelease) return this.endSocket();
    if (this.socket.writableLength < OUTPUT_HIGH_WATER) this.onDrain();
  }

  describe(): ConnectionInfo {
    const st = this.state.kind;
    const state = this.processing ? 'conn_parse_cmd' : this.waitingForDrain ? 'conn_mwrite'
      : st === 'data' || st === 'value' ? 'conn_nread' : st === 'swallow' ? 'conn_swallow' : 'conn_waiting';
    return { id: this.id, addr: `tcp:${this.socket.remoteAddress}:${this.socket.remotePort}`, state, lastCommandAt: this.lastCommandAt };
  }

  /** Graceful stop: the replies already composed are sent, then the connection ends. */
  end(): void {
    this.flush();
    this.closing = true;
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.counters.bytesRead += chunk.length;
    if (this.protocol === 'unknown') {
      // memcached's try_read_command_negotiate: 0x80 first is binary, anything else text.
      this.protocol = chunk[0] === REQUEST_MAGIC ? 'binary' : 'text';
      if (this.protocol === 'binary') this.state = PACKET;
    }
    if (this.delayed) {
      // A chunk that was on its way when the connection paused: kept for after the delay.
      this.pending.keep(Buffer.concat([this.pending.take() ?? Buffer.alloc(0), chunk]));
      return;
    }
    if (this.resumeQueued) {
      // Waiting for its next turn: kept behind the commands already buffered; a client that
      // keeps sending is not read beyond one more chunk.
      this.pending.append(chunk);
      if (this.pending.length > READ_AHEAD) this.socket.pause();
      return;
    }
    const ready = this.pending.add(chunk, this.state.kind === 'line');
    if (ready === 'close') return this.close();
    if (ready === null) return;
    this.process(ready);
  }

  private onDrain(): void {
    if (!this.waitingForDrain || this.closing || this.delayed || this.heldBytes >= OUTPUT_HIGH_WATER) return;
    this.waitingForDrain = false;
    this.goOn();
  }

  /**
   * The client sent its last byte (the server allows half-open connections): once the commands
   * still waiting for their turn are answered, the connection ends, as memcached reads the end
   * only after them.
   */
  private onEnd(): void {
    this.inputEnded = true;
    if (!this.resumeQueued && !this.waitingForDrain && !this.delayed) this.close();
  }

  /** The turn after a yield. */
  private resume(): void {
    this.resumeQueued = false;
    if (this.closing || this.socket.destroyed || this.waitingForDrain || this.delayed) return;
    this.goOn();
  }

  /** Runs what was kept while the connection waited (a yield, a drain, an auth delay), then reads again. */
  private goOn(): void {
    const rest = this.pending.take();
    if (rest) this.process(rest);
    if (this.closing || this.resumeQueued || this.waitingForDrain || this.delayed) return;
    if (this.inputEnded) return this.close();
    this.socket.resume();
  }


  private process(buf: Buffer): void {
    // Going on after a yield, the replies of the part before are still here: the log's end from
    // before that part tells whether they wait for the peer.
    if (this.gate && !this.goesOn) this.seenLogEnd = this.gate.logEnd();
    this.visits = this.goesOn ? 1 : 0;
    this.yielded = this.goesOn = false;
    this.processing = true;
    this.lastCommandAt = nowSeconds();
    if (this.protocol === 'binary') this.processBinary(buf);
    else if (this.state.kind === 'auth') this.processAuth(buf);
    else this.processBuffer(buf);
    this.processing = false;
    // Stopped at -R with commands buffered: the other connections' reads of this turn go first.
    if (this.goesOn && !this.closing && !this.resumeQueued) {
      this.resumeQueued = true;
      setImmediate(() => this.resume());
    }
  }

  /**
   * memcached's binary connection: a header with its extras and key must be in the read
   * buffer (16 KB, never grown for binary) before anything is done; then the command runs and
   * its value is read or swallowed. Replies go out where memcached transmits: after noop, an
   * error it answers at once, every 20th command, and when it runs out of input to parse,
   * but not while it waits for the rest of a value or of a swallowed body.
   */
  private processBinary(buf: Buffer): void {
    let off = 0;
    const end = buf.length;
    while (!this.closing && !this.yielded) {
      const st = this.state;
      let next: BinaryNext;
      if (st.kind === 'swallow') {
        off = skipBlock(st, off, end);
        if (st.left > 0) break;
        this.state = PACKET;
        this.completed(false);
        continue;
      }
      if (st.kind === 'value') {
        off = fillBlock(st, buf, off, end);
        if (st.filled < st.data.length) break;
        this.state = PACKET;
        next = this.commands.binary.completeValue(st.pending, st.data, this.session, this.out);
      } else {
        if (end - off < HEADER_LENGTH) break;
        if (buf[off] !== REQUEST_MAGIC) {
          // A bad magic closes silently; what memcached had not transmitted is lost with it.
          this.out.discard();
          this.flush();
          return this.close();
        }
        const h = decodeHeader(buf, off);
        const need = HEADER_LENGTH + h.extrasLength + h.keyLength;
        if (end - off < need) {
          // More than the read buffer holds can never arrive: memcached's next read of zero
          // bytes reads as the client closing.
          if (need > READ_BUFFER_SIZE && end - off > READ_BUFFER_SIZE) {
            this.out.mark();
            this.flush();
            return this.close();
          }
          break;
        }
        if (this.log.verbosity >= 2) {
          const key = h.keyLength > 0 ? ` ${printable(buf, off + need - h.keyLength, off + need)}` : '';
          this.log.debug(`<${this.id} ${opcodeName(h.opcode)}${key} (body ${h.bodyLength} bytes, opaque ${h.opaque})`);
        }
        next = this.commands.binary.dispatch(h, buf, off, this.session, this.out);
        off += need;
      }
      switch (next.kind) {
        case 'close':
          this.out.mark();
          this.flush();
          return this.close();
        case 'swallow':
          this.state = { kind: 'swallow', left: next.bytes };
          continue;
        case 'value':
          this.state = { kind: 'value', pending: next.pending, data: Buffer.allocUnsafeSlow(next.bytes), filled: 0 };
          continue;
        case 'next':
          if (next.delay) return this.delay(buf.subarray(off));
          this.completed(next.transmit);
          break;
      }
      // Only up to the last transmit point: memcached holds the rest (large values by reference,
      // as here) while it then waits for a value.
      if (this.out.pending >= OUTPUT_FLUSH_AT) this.flush(true);
      if (this.socket.writableLength + this.heldBytes >= OUTPUT_HIGH_WATER) {
        this.waitingForDrain = true;
        this.socket.pause();
        break;
      }
    }
    if (off < end) this.pending.keep(buf.subarray(off));
    if (this.state.kind === 'packet') this.ranOut(off < end);
    if (this.state.kind === 'packet' || this.waitingForDrain) {
      this.out.mark();
      if (!this.goesOn) this.flush();
    } else {
      // Waiting for a value or a swallowed body: memcached has sent what it transmitted
      // (conn_mwrite) and holds the rest.
      this.flush(true);
    }
  }

  /**
   * A reply before -Y authentication. memcached writes each into the connection's current
   * response object, so it replaces the one before it that was not transmitted yet: of a read
   * event's unauthenticated lines only the last is answered.
   */
  private authReply(line: string): void {
    this.out.discard();
    this.out.line(line);
    this.completed(false);
  }

  /** A failed authentication: its reply and the rest of the input wait AUTH_FAILURE_DELAY_MS. */
  private delay(rest: Buffer): void {
    if (rest.length > 0) this.pending.keep(rest);
    this.delayed = true;
    this.socket.pause();
    setTimeout(() => {
      this.delayed = false;
      if (this.closing || this.socket.destroyed) return;
      this.out.mark();
      this.flush();
      this.goOn();
    }, AUTH_FAILURE_DELAY_MS);
  }

  /**
   * -Y before authentication, as try_read_command_asciiauth: any line but
   * "set <key> <flags> <exptime> <bytes>" is answered "CLIENT_ERROR unauthenticated"; the set's
   * data ("user password") must then be in the read buffer whole.
   */
  private processAuth(buf: Buffer): void {
    let off = 0;
    const end = buf.length;
    while (off < end && !this.closing && !this.yielded) {
      const st = this.state;
      if (st.kind !== 'auth') {
        // Authenticated: the rest is ordinary text.
        this.processBuffer(buf.subarray(off));
        return;
      }
      if (st.need === 0) {
        if (end - off < 2) break;
        const nl = buf.indexOf(10, off);
        if (nl < 0) {
          if (end - off > MAX_COMMAND_LINE) return this.close();
          break;
        }
        const words: string[] = [];
        tokenize(buf, off, nl, MAX_WORDS, words);
        off = nl + 1;
        const size = words.length >= 5 && words[0] === 'set' ? parseU32(words[4]!) : null;
        if (size === null) {
          this.authReply('CLIENT_ERROR unauthenticated');
          continue;
        }
        st.need = size + 2;
        continue;
      }
      if (end - off < st.need) {
        // The data can only be read from memcached's 16 KB buffer: more never completes.
        if (end - off > READ_BUFFER_SIZE) return this.close();
        break;
      }
      const r = this.commands.authenticateText(buf.subarray(off, off + st.need));
      off += st.need;
      st.need = 0;
      this.authReply(r.line);
      if (r.ok) this.state = LINE;
      else return this.delay(buf.subarray(off));
    }
    if (off < end) this.pending.keep(buf.subarray(off));
    if (this.state.kind === 'auth' && this.state.need === 0) this.ranOut(off < end);
    this.out.mark();
    if (!this.goesOn) this.flush();
  }

  private processBuffer(buf: Buffer): void {
    let off = 0;
    const end = buf.length;
    while (off < end && !this.closing && !this.yielded) {
      const st = this.state;
      if (st.kind === 'swallow') {
        off = skipBlock(st, off, end);
        if (st.left === 0) {
          this.state = LINE;
          this.completed(false);
        }
        continue;
      }
      if (st.kind === 'data') {
        off = fillBlock(st, buf, off, end);
        if (st.filled < st.data.length) break;
        this.state = LINE;
        if (st.req.kind === 'store') this.commands.completeStore(st.req, st.data, this.out);
        else this.commands.completeMetaSet(st.req, st.data, this.out);
        this.completed(false);
      } else {
        const nl = findLine(buf, off);
        if (nl === LINE_CLOSES) return this.close();
        if (nl === LINE_INCOMPLETE) break;
        const lineEnd = nl - off > 1 && buf[nl - 1] === 13 ? nl - 1 : nl;
        if (this.log.verbosity >= 2) this.log.debug(`<${this.id} ${printable(buf, off, lineEnd)}`);
        const req = parseRequest(buf, off, lineEnd);
        off = nl + 1;
        if (req.kind === 'store') {
          const refusal = this.commands.admitStore(req);
          if (refusal !== null) {
            if (!req.noreply) this.out.line(refusal);
            this.state = { kind: 'swallow', left: req.bytes + 2 };
          } else {
            this.state = { kind: 'data', req, data: Buffer.allocUnsafeSlow(req.bytes + 2), filled: 0 };
          }
          continue;
        }
        // ms errors are never quiet (memcached's out_errstring); the data block is thrown away.
        if (req.kind === 'swallow') {
          this.out.line(req.message);
          this.state = { kind: 'swallow', left: req.bytes + 2 };
          continue;
        }
        if (req.kind === 'mset') {
          const refusal = this.commands.admitMetaSet(req);
          if (refusal !== null) {
            this.out.line(refusal);
            this.state = { kind: 'swallow', left: req.bytes + 2 };
          } else {
            this.state = { kind: 'data', req, data: Buffer.allocUnsafeSlow(req.bytes + 2), filled: 0 };
          }
          continue;
        }
        if (this.commands.execute(req, this.out) === 'close') {
          this.flush();
          return this.close();
        }
        this.completed((req.kind === 'get' && !req.badKey) || req.kind === 'mn');
      }
      if (this.out.pending >= OUTPUT_FLUSH_AT) this.flush();
      if (this.socket.writableLength + this.heldBytes >= OUTPUT_HIGH_WATER) {
        this.waitingForDrain = true;
        this.socket.pause();
        break;
      }
    }
    if (off < end) this.pending.keep(buf.subarray(off));
    // The end of a read event's processing: memcached transmits what it composed.
    if (this.state.kind === 'line') this.ranOut(off < end);
    this.out.mark();
    // The replies of a read event leave in one write: after a yield, once the rest has run.
    if (!this.goesOn) this.flush();
  }

  /**
   * The input ran out where memcached transmits (more of a line or header needed). After a
   * yield, the commands left go on in the next turn; else the transmit of composed replies
   * passes conn_new_cmd too, and may be the pass past -R (nothing is left to go on with).
   */
  private ranOut(left: boolean): void {
    if (this.yielded) {
      this.goesOn = left;
    } else if (this.replyPending && !this.closing) {
      this.replyPending = false;
      this.visit();
    }
  }

  /**
   * memcached transmits after every get and mn (binary: noop, an error answered at once). What
   * it has not transmitted, an HTTP line or a get with an over-long key throws away; marking
   * the same points makes our replies match byte for byte. Each command then passes
   * conn_new_cmd, as does each transmit no command asked for (see ranOut()); past -R (20)
   * of these in one event memcached transmits, counts a yield and lets the other connections
   * have their turn. An event that goes on after a yield starts with one such pass.
   */
  private completed(transmits: boolean): void {
    if (transmits) this.out.mark();
    this.replyPending = !transmits;
    this.visit();
  }

  private visit(): void {
    if (++this.visits <= this.commands.settings.reqsPerEvent) return;
    this.out.mark();
    this.replyPending = false;
    this.yielded = true;
    this.counters.connYields++;
  }

  /** Hands composed replies to the socket (`markedOnly`: those up to the last transmit point). */
  private flush(markedOnly = false): void {
    const bytes = markedOnly ? this.out.marked : this.out.pending;
    if (bytes === 0) return;
    this.counters.bytesWritten += bytes;
    const segments = markedOnly ? this.out.takeMarked() : this.out.take();
    if (this.socket.destroyed) return;
    if (this.gate) {
      const end = this.gate.logEnd();
      const offset = end !== this.seenLogEnd ? end : 0;
      this.seenLogEnd = end;
      if (this.held.length > 0 || this.gate.mustHold(offset)) {
        this.held.push({ segments, bytes, offset });
        this.heldBytes += bytes;
        this.gate.wait(this);
        return;
      }
    }
    this.send(segments);
  }

  private send(segments: Buffer[]): void {
    if (this.socket.destroyed) return;
    if (segments.length === 1) {
      this.socket.write(segments[0]!);
      return;
    }
    this.socket.cork();
    for (const s of segments) this.socket.write(s);
    this.socket.uncork();
  }

  /** Sends what is composed, then closes; a client that does not read it is cut off after a while. */
  private close(): void {
    this.closing = true;
    this.pending.clear();
    // Sync mode: replies still waiting for the peer go out before the connection ends.
    if (this.held.length > 0) {
      this.endAfterRelease = true;
      return;
    }
    this.endSocket();
  }

  private endSocket(): void {
    this.endAfterRelease = false;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }
}

/** A request line for the log: at most 200 bytes, control bytes escaped. */
function printable(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('latin1', start, Math.min(end, start + 200));
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return end - start > 200 ? `${safe}... (${end - start} bytes)` : safe;
}
