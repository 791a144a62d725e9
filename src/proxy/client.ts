import type { Socket } from 'node:net';
import { findLine, LINE_CLOSES, LINE_INCOMPLETE } from '../protocol/line-limits';
import { fillBlock, skipBlock } from '../protocol/data-block';
import { PendingInput } from '../protocol/pending-input';
import { parseRequest, type StoreRequest } from '../protocol/request';
import { OUTPUT_HIGH_WATER } from '../net-limits';
import type { Batcher } from './batcher';
import { ClientCommands, type CommandHost } from './client-commands';
import { ReplyOrder } from './reply-order';
import type { ReplySink } from './slot';
import { MAX_IN_FLIGHT } from './limits';
import { parseMetaLine, type MetaLine } from './meta-framer';
import { ASCII_AUTH_MAX_DATA, ASCII_AUTH_MAX_LINE, asciiAuthData, asciiAuthLine, FAILURE_DELAY_MS, SASL_MECHS, type ClientAuth } from './client-auth';
import { BinKind, binaryError, binaryNeeds, binaryResponse, frameBinary, type BinRequest } from './binary-framer';
import { HEADER_LENGTH, MAX_SASL_MECH_LENGTH, Opcode, REQUEST_MAGIC, Status } from '../protocol/binary';

/** What a client connection needs from the proxy, besides what its commands need. */
export interface ClientHost extends CommandHost {
  readonly maxValue: number;
  readonly batcher: Batcher;
  /** The authentication clients must pass (-S or -Y), or null. */
  readonly clientAuth: ClientAuth | null;
}

type State =
  | { kind: 'line' }
  | { kind: 'data'; req: StoreRequest; line: Buffer; data: Buffer; filled: number }
  | { kind: 'meta'; m: MetaLine; line: Buffer; data: Buffer; filled: number }
  | { kind: 'binvalue'; r: BinRequest; head: Buffer; data: Buffer; filled: number }
  | { kind: 'swallow'; left: number }
  | { kind: 'authdata'; data: Buffer; filled: number };

const LINE: State = { kind: 'line' };
const UNAUTHENTICATED = Buffer.from('CLIENT_ERROR unauthenticated\r\n');
const CLOSE_LINGER_MS = 10_000;
const END_LINGER_MS = 2_000;

/**
 * One client of the proxy: frames its requests exactly as memcached does (same limits, same
 * error lines), has its commands carry them out, and sends the replies back in request order,
 * batched per event. Reading stops while too many replies are owed or too much output is unsent.
 */
export class ClientConnection implements ReplySink {
  private state: State = LINE;
  private readonly pending = new PendingInput();
  private readonly replies = new ReplyOrder(this);
  private readonly commands: ClientCommands;
  private paused = false;
  private closing = false;
  /** Passed the authentication the proxy requires (always, when it requires none). */
  private authenticated: boolean;
  /** A failed login's reply is held back (FAILURE_DELAY_MS): nothing is read meanwhile. */
  private penalty = false;

  /**
   * `binary`: the protocol, when it was chosen before this connection took the socket over (a
   * handoff from the C++ path); null: chosen from the first byte, as memcached does (0x80 is
   * binary, anything else text).
   */
  constructor(private readonly socket: Socket, private readonly host: ClientHost, readonly lane: number, private binary: boolean | null = null) {
    const auth = host.clientAuth;
    this.authenticated = auth === null;
    // As memcached: -S serves only the binary protocol, -Y only the text one.
    if (auth !== null) this.binary = auth.kind === 'sasl';
    this.commands = new ClientCommands(host, this.replies, lane);
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    // The server allows half-open sockets: a client that sends its requests and shuts its side
    // (printf ... | nc) still gets every reply, then the connection ends, as with memcached.
    socket.on('end', () => this.quit());
    socket.on('error', () => socket.destroy());
  }

  slotDone(): void {
    if (this.replies.headDone) this.host.batcher.add(this);
  }

  /**
   * Sends every finished reply at the head of the order, in one write. While later replies of
   * a pipelined batch are still on their way, small output waits for them (at most until the
   * batcher's next tick, ~1 ms): one write per batch instead of one per backend read.
   */
  flush(force = false): void {
    const batch = this.replies.take(force);
    if (batch === null) return this.host.batcher.later(this);
    const { out } = batch;
    if (!this.socket.destroyed && out.length > 0) {
      if (out.length === 1) this.socket.write(out[0]!);
      else this.socket.write(Buffer.concat(out));
    }
    if (batch.end) return this.close();
    this.maybeResume();
  }

  /** Shutdown: ends the connection; a client that does not close its side is cut off soon after. */
  end(): void {
    this.closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_LINGER_MS).unref();
  }

  /** Input read before this connection took the socket over (from the C++ data path). */
  feed(chunk: Buffer): void {
    if (chunk.length > 0) this.onData(chunk);
  }

  private get full(): boolean {
    return this.penalty || this.replies.inFlight >= MAX_IN_FLIGHT || this.socket.writableLength >= OUTPUT_HIGH_WATER;
  }

  /** Stops reading while too many replies are owed or too much output is unsent; true when it did. */
  private pauseIfFull(): boolean {
    if (!this.full) return false;
    this.paused = true;
    this.socket.pause();
    return true;
  }

  private maybeResume(): void {
    if (!this.paused || this.closing || this.full) return;
    this.paused = false;
    this.socket.resume();
    const rest = this.pending.take();
    if (rest) this.process(rest);
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const ready = this.pending.add(chunk, this.state.kind === 'line' && this.binary !== true && this.authenticated);
    if (ready === 'close') return this.quit();
    if (ready === null) return;
    this.process(ready);
  }

  private process(buf: Buffer): void {
    this.binary ??= buf[0] === REQUEST_MAGIC;
    if (this.binary) return this.processBinary(buf);
    let off = 0;
    const end = buf.length;
    if (!this.authenticated) {
      off = this.asciiAuth(buf, off, end);
      if (!this.authenticated || this.closing || this.full) {
        if (off < end && !this.closing) this.pending.keep(buf.subarray(off));
        return;
      }
    }
    while (off < end && !this.closing) {
      const st = this.state;
      if (st.kind === 'swallow') {
        off = skipBlock(st, off, end);
        if (st.left === 0) this.state = LINE;
        continue;
      }
      if (st.kind === 'data' || st.kind === 'meta') {
        off = fillBlock(st, buf, off, end);
        if (st.filled < st.data.length) break;
        this.state = LINE;
        if (st.kind === 'data') this.commands.store(st.req, st.line, st.data, null);
        else this.commands.meta(st.m, st.line, st.data);
      } else {
        const nl = findLine(buf, off);
        if (nl === LINE_CLOSES) return this.quit();
        if (nl === LINE_INCOMPLETE) break;
        const lineEnd = nl - off > 1 && buf[nl - 1] === 13 ? nl - 1 : nl;
        // Meta commands first: the shared parser's view of them is the node's business.
        const m = buf[off] === 109 || buf[off] === 32 ? parseMetaLine(buf, off, lineEnd) : null;
        if (m !== null) {
          off = this.meta(m, buf, off, nl, end);
          if (this.pauseIfFull()) break;
          continue;
        }
        const req = parseRequest(buf, off, lineEnd);
        const lineStart = off;
        const raw = buf.subarray(lineStart, nl + 1);
        off = nl + 1;
        this.host.dispatcher.counters.requests++;
        if (req.kind === 'store') {
          if (req.bytes > this.host.maxValue) {
            this.commands.refuseTooLarge(req);
            this.state = { kind: 'swallow', left: req.bytes + 2 };
            continue;
          }
          const need = req.bytes + 2;
          if (end - off >= need) {
            this.commands.store(req, raw, buf.subarray(off, off + need), buf.subarray(lineStart, off + need));
            off += need;
          } else {
            this.state = { kind: 'data', req, line: raw, data: Buffer.allocUnsafe(need), filled: 0 };
          }
          continue;
        }
        if (req.kind === 'quit') {
          this.quit();
          break;
        }
        if (req.kind === 'close') {
          this.closing = true;
          this.socket.destroy();
          break;
        }
        this.commands.execute(req, raw);
      }
      if (this.pauseIfFull()) break;
    }
    if (off < end && !this.closing) this.pending.keep(buf.subarray(off));
  }

  /**
   * Frames binary requests as memcached reads them (see binary-framer.ts): the header, extras
   * and key, then a value for the commands that carry one; errors, swallowed bodies and the
   * closes where memcached closes.
   */
  private processBinary(buf: Buffer): void {
    let off = 0;
    const end = buf.length;
    while (off < end && !this.closing) {
      const st = this.state;
      if (st.kind === 'swallow') {
        off = skipBlock(st, off, end);
        if (st.left === 0) this.state = LINE;
        continue;
      }
      if (st.kind === 'binvalue') {
        off = fillBlock(st, buf, off, end);
        if (st.filled < st.data.length) break;
        this.state = LINE;
        this.binaryWithValue(st.r, st.head, st.data);
        if (this.pauseIfFull()) break;
        continue;
      }
      // A header without the request magic: memcached closes the connection, saying nothing
      // (it looks at the magic once it has the whole header).
      if (end - off < HEADER_LENGTH) break;
      if (buf[off] !== REQUEST_MAGIC) {
        this.quit();
        break;
      }
      const need = binaryNeeds(buf, off);
      if (end - off < need) break;
      const head = Buffer.from(buf.subarray(off, off + need));
      off += need;
      off = this.binaryRequest(frameBinary(head, 0, !this.authenticated), head, buf, off, end);
      if (this.pauseIfFull()) break;
    }
    if (off < end && !this.closing) this.pending.keep(buf.subarray(off));
  }

  /** One framed binary request; `off` is where its header, extras and key end. Returns where it ends. */
  private binaryRequest(r: BinRequest, head: Buffer, buf: Buffer, off: number, end: number): number {
    const c = this.commands;
    switch (r.kind) {
      case BinKind.Refused:
        this.host.dispatcher.counters.requests++;
        c.binaryLocalReply(binaryError(r.opcode, r.refusal, head, 12));
        this.quit();
        return off;
      case BinKind.Unknown:
        // memcached swallows the whole body length again after the extras and key it read.
        this.host.dispatcher.counters.requests++;
        c.binaryLocalReply(binaryError(r.opcode, Status.UnknownCommand, head, 12));
        this.state = { kind: 'swallow', left: r.bodylen };
        return off;
      case BinKind.Sasl:
        this.host.dispatcher.counters.requests++;
        if (this.host.clientAuth === null) {
          // No authentication asked of clients: memcached without -S.
          c.binaryLocalReply(binaryError(r.opcode, Status.UnknownCommand, head, 12));
          if (r.vlen > 0) this.state = { kind: 'swallow', left: r.vlen };
          return off;
        }
        if (r.loud === Opcode.SaslListMechs) {
          c.binaryLocalReply(binaryResponse(r.opcode, Status.Success, head, 12, null, Buffer.from(SASL_MECHS)));
          return off;
        }
        if (r.keylen > MAX_SASL_MECH_LENGTH || r.vlen > this.host.maxValue) {
          c.binaryLocalReply(binaryError(r.opcode, r.keylen > MAX_SASL_MECH_LENGTH ? Status.InvalidArguments : Status.OutOfMemory, head, 12));
          this.state = { kind: 'swallow', left: r.vlen };
          return off;
        }
        return this.binaryValue(r, head, buf, off, end);
      case BinKind.Local:
        if (r.loud === Opcode.Quit) {
          this.host.dispatcher.counters.requests++;
          if (!r.quiet) c.binaryLocalReply(binaryResponse(r.opcode, Status.Success, head, 12));
          this.quit();
          return off;
        }
        c.binary(r, head, null);
        return off;
      case BinKind.Keyed:
        break;
    }
    if (r.vlen > this.host.maxValue) {
      c.binaryTooLarge(r, head);
      this.state = { kind: 'swallow', left: r.vlen };
      return off;
    }
    if (r.vlen === 0) {
      c.binary(r, head, null);
      return off;
    }
    return this.binaryValue(r, head, buf, off, end);
  }

  /** A request with a value: handled now if this read holds all of it, else once a binvalue state has read it. */
  private binaryValue(r: BinRequest, head: Buffer, buf: Buffer, off: number, end: number): number {
    if (end - off >= r.vlen) {
      this.binaryWithValue(r, head, buf.subarray(off, off + r.vlen));
      return off + r.vlen;
    }
    this.state = { kind: 'binvalue', r, head, data: Buffer.allocUnsafe(r.vlen), filled: 0 };
    return off;
  }

  private binaryWithValue(r: BinRequest, head: Buffer, data: Buffer): void {
    if (r.kind === BinKind.Sasl) this.saslAuth(r, head, data);
    else this.commands.binary(r, head, data);
  }

  /**
   * SASL_AUTH (or SASL_STEP) with its data: PLAIN logs in at once, so a step has nothing to
   * continue (memcached's answer to a step without a started exchange); a failure is answered
   * after the delay.
   */
  private saslAuth(r: BinRequest, head: Buffer, data: Buffer): void {
    const auth = this.host.clientAuth!;
    const mech = head.toString('latin1', HEADER_LENGTH, HEADER_LENGTH + r.keylen);
    const ok = r.loud === Opcode.SaslAuth && mech.toUpperCase() === 'PLAIN' && auth.checkPlain(data);
    if (ok) {
      this.authenticated = true;
      this.commands.binaryLocalReply(binaryResponse(r.opcode, Status.Success, head, 12, null, Buffer.from('Authenticated')));
      return;
    }
    this.penalise(binaryError(r.opcode, Status.AuthError, head, 12));
  }

  /**
   * memcached's -Y login (try_read_command_asciiauth) at buf[off..]: the `set` line, then its
   * data; returns where it stopped. Until a login succeeds every line is answered
   * CLIENT_ERROR unauthenticated.
   */
  private asciiAuth(buf: Buffer, off: number, end: number): number {
    const auth = this.host.clientAuth!;
    while (off < end && !this.authenticated && !this.closing && !this.penalty) {
      const st = this.state;
      if (st.kind === 'authdata') {
        off = fillBlock(st, buf, off, end);
        if (st.filled < st.data.length) break;
        this.state = LINE;
        this.host.dispatcher.counters.requests++;
        const { reply, ok } = asciiAuthData(auth, st.data);
        const bytes = Buffer.from(`${reply}\r\n`);
        if (ok) {
          this.authenticated = true;
          this.replies.add().complete(bytes);
        } else if (reply === 'CLIENT_ERROR authentication failure') {
          this.penalise(bytes);
        } else {
          this.replies.add().complete(bytes);
        }
        continue;
      }
      const nl = buf.indexOf(10, off);
      if (nl < 0) {
        // No newline after 2 KB: memcached takes it for junk and closes.
        if (end - off > ASCII_AUTH_MAX_LINE) {
          this.closing = true;
          this.socket.destroy();
        }
        break;
      }
      const size = asciiAuthLine(buf, off, nl);
      off = nl + 1;
      if (size === null) {
        this.host.dispatcher.counters.requests++;
        this.replies.add().complete(UNAUTHENTICATED);
        continue;
      }
      if (size + 2 > ASCII_AUTH_MAX_DATA) {
        this.closing = true;
        this.socket.destroy();
        break;
      }
      this.state = { kind: 'authdata', data: Buffer.allocUnsafe(size + 2), filled: 0 };
    }
    return off;
  }

  /** A failed login: its reply takes its place in the order only after the delay; nothing is read meanwhile. */
  private penalise(reply: Buffer): void {
    const slot = this.replies.add();
    this.penalty = true;
    this.paused = true;
    this.socket.pause();
    setTimeout(() => {
      this.penalty = false;
      slot.complete(reply);
      this.maybeResume();
    }, FAILURE_DELAY_MS).unref();
  }

  /** A meta command whose line ends at `nl`; returns where its data block (if any) ends, or would. */
  private meta(m: MetaLine, buf: Buffer, off: number, nl: number, end: number): number {
    this.host.dispatcher.counters.requests++;
    const raw = buf.subarray(off, nl + 1);
    off = nl + 1;
    if (m.cmd === 'n') {
      this.commands.mn();
      return off;
    }
    if (m.datalen < 0) {
      this.commands.meta(m, raw, null);
      return off;
    }
    if (m.datalen > this.host.maxValue) {
      this.commands.metaTooLarge(m);
      this.state = { kind: 'swallow', left: m.datalen + 2 };
      return off;
    }
    const need = m.datalen + 2;
    if (end - off >= need) {
      this.commands.meta(m, raw, buf.subarray(off, off + need));
      return off + need;
    }
    this.state = { kind: 'meta', m, line: raw, data: Buffer.allocUnsafe(need), filled: 0 };
    return off;
  }

  /** Ends the connection once every reply asked for so far is sent. */
  private quit(): void {
    if (this.closing) return;
    this.closing = true;
    const s = this.replies.add();
    s.closeAfter = true;
    s.complete(null);
  }

  private close(): void {
    this.closing = true;
    this.pending.clear();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }
}
