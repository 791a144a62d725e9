import type { Request, StoreRequest } from '../protocol/request';
import type { Dispatcher, Mirror } from './dispatcher';
import type { ReplyOrder } from './reply-order';
import { metaRetryable, metaRouteKey, quietDrops, type MetaLine } from './meta-framer';
import { ReplyShape } from './reply-reader';
import { binaryError, binaryIsRead, binaryQuietDrops, binaryResponse, binaryRetryable, BinKind, TEMPORARY_FAILURE, type BinRequest } from './binary-framer';
import { HEADER_LENGTH, Opcode, REQUEST_MAGIC, RESPONSE_MAGIC, Status } from '../protocol/binary';
import { SERVER_ERROR_UNAVAILABLE } from './slot';

/** What carrying out a client's requests needs from the proxy. */
export interface CommandHost {
  readonly dispatcher: Dispatcher;
  readonly versionLine: Buffer;
  /**
   * The whole reply to a `stats` request (text protocol), to `done`, at once or once the nodes
   * answered; null for a sub-command the proxy does not know.
   */
  stats(args: string[], lane: number, done: (reply: Buffer | null) => void): void;
  setVerbosity(level: number): void;
}

/** The requests that neither carry a data block nor end the connection. */
export type LineRequest = Exclude<Request, { kind: 'store' | 'quit' | 'close' }>;

const line = (text: string): Buffer => Buffer.from(`${text}\r\n`, 'latin1');
const MN = line('MN');
const FENCE = line('mn');
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
function storeMirror(req: StoreRequest, data: Buffer): Mirror {
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

/**
 * A meta write (ms md ma) the main node carried out is copied to the backup as a delete of the
 * key: the backup holds the main's value or none, never another (its modes and flags are the
 * main's to apply). An error changed nothing.
 */
function metaMirror(m: MetaLine): Mirror {
  const del = line(`md ${m.key}${m.binary ? ' b' : ''}`);
  return (reply) => (reply[0] === 69 /* ERROR */ || reply[0] === 67 /* CLIENT_ERROR */ || reply[0] === 83 /* SERVER_ERROR */ ? null : del);
}

/** A binary write the main node carried out is copied to the backup as a binary delete of the key (as metaMirror). */
function binaryMirror(key: Buffer): Mirror {
  const del = Buffer.alloc(HEADER_LENGTH + key.length);
  del[0] = REQUEST_MAGIC;
  del[1] = Opcode.Delete;
  del.writeUInt16BE(key.length, 2);
  del.writeUInt32BE(key.length, 8);
  key.copy(del, HEADER_LENGTH);
  return (reply) => (reply[0] === RESPONSE_MAGIC && reply.readUInt16BE(6) === Status.Success ? del : null);
}

/** A proxy's own text error (SERVER_ERROR backend ...) as a binary packet: "temporary failure" with the reason. */
function binaryProxyError(r: BinRequest, head: Buffer, text: Buffer): Buffer {
  const reason = text.toString('latin1').replace(/^SERVER_ERROR /, '').replace(/\r\n$/, '');
  return binaryError(r.opcode, TEMPORARY_FAILURE, head, 12, reason);
}

/** The STAT lines of a text stats reply as binary packets (one per stat, an empty one last), as memcached's append_stats writes them. */
function binaryStats(text: Buffer, head: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const l of text.toString('latin1').split('\r\n')) {
    if (!l.startsWith('STAT ')) continue;
    const sp = l.indexOf(' ', 5);
    const name = sp < 0 ? l.slice(5) : l.slice(5, sp);
    const value = sp < 0 ? '' : l.slice(sp + 1);
    out.push(binaryResponse(Opcode.Stat, Status.Success, head, 12, Buffer.from(name, 'latin1'), Buffer.from(value, 'latin1')));
  }
  out.push(binaryResponse(Opcode.Stat, Status.Success, head, 12));
  return out;
}

function touchMirror(touch: Buffer): Mirror {
  return (reply) => (reply.equals(TOUCHED) ? touch : null);
}

/**
 * What each request of one client does in the proxy, once its connection has framed it:
 * forwarded through the dispatcher (with what the backup pool gets of a write), or answered
 * here without a backend. Every request that is answered takes its place in the client's
 * reply order as it is read.
 */
export class ClientCommands {
  constructor(private readonly host: CommandHost, private readonly replies: ReplyOrder, private readonly lane: number) {}

  /** A storage command whose data block is over the size limit (the connection skips the block). */
  refuseTooLarge(req: StoreRequest): void {
    if (!req.noreply) this.local(TOO_LARGE);
    // memcached drops the old value of a key whose set failed: a stale value must not outlive the write.
    const d = this.host.dispatcher;
    if (req.op === 'set') d.write(req.key, line(`delete ${req.key}`), null, false, this.lane, d.backups && deleteMirror(req.key));
  }

  /** A storage command with its data block; `whole` is line + block when they are contiguous. */
  store(req: StoreRequest, raw: Buffer, data: Buffer, whole: Buffer | null): void {
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
    d.write(req.key, bytes, req.noreply ? null : this.replies.add(), req.op === 'set', this.lane, d.backups === null ? null : storeMirror(req, data));
  }

  /**
   * A meta command (mn aside): `line` as the client sent it, `data` ms's data block (with its
   * "\r\n") or null. The q flag is taken out, so that the node always answers and stays in
   * step, and the replies quiet mode would not have sent are dropped here (see quietDrops).
   */
  meta(m: MetaLine, raw: Buffer, data: Buffer | null): void {
    const c = this.host.dispatcher.counters;
    // As memcached counts them: mg is a get (a touch with T), ms a set.
    if (m.cmd === 'g') {
      if (m.ttl) c.cmdTouch++;
      else c.cmdGet++;
    } else if (m.cmd === 's') {
      c.cmdSet++;
    }
    const parts = m.qEnd === 0 ? [raw] : [raw.subarray(0, m.qStart), raw.subarray(m.qEnd)];
    if (data !== null) parts.push(data);
    if (m.fence) parts.push(FENCE);
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const slot = this.replies.add();
    const target = m.qEnd === 0 ? slot : { complete: (out: Buffer | Buffer[] | null) => slot.complete(out instanceof Buffer && quietDrops(m.cmd, out) ? null : out) };
    const d = this.host.dispatcher;
    const writes = m.cmd === 's' || m.cmd === 'd' || m.cmd === 'a';
    const shape = m.fence ? ReplyShape.MetaFenced : ReplyShape.Meta;
    d.meta(metaRouteKey(m), bytes, shape, target, metaRetryable(m), this.lane, d.backups !== null && writes ? metaMirror(m) : null);
  }

  /**
   * An ms whose data block is over the size limit (the connection skips the block): memcached's
   * error, which quiet mode does not hide, and, as memcached does, the key's old value goes.
   */
  metaTooLarge(m: MetaLine): void {
    this.local(TOO_LARGE);
    const d = this.host.dispatcher;
    const del = line(`md ${m.key}${m.binary ? ' b' : ''}`);
    d.meta(metaRouteKey(m), del, ReplyShape.Meta, { complete: () => undefined }, true, this.lane, d.backups && metaMirror(m));
  }

  /** mn: answered here, after every earlier reply of this client (replies leave in order). */
  mn(): void {
    this.local(MN);
  }

  /**
   * A binary request framed by the connection (see binary-framer.ts), Keyed or Local (not
   * quit, which the connection ends itself): `head` is its header, extras and key, `value`
   * its value (storage commands, append, prepend) or null. A keyed one goes to its node as
   * the client sent it, with the loud opcode and the body length memcached consumes; its reply
   * comes back with the client's opcode, and the replies quiet mode hides are dropped here.
   */
  binary(r: BinRequest, head: Buffer, value: Buffer | null): void {
    const d = this.host.dispatcher;
    d.counters.requests++;
    if (r.kind === BinKind.Local) return this.binaryLocal(r, head);
    const keyStart = HEADER_LENGTH + r.extlen;
    const key = head.subarray(keyStart, keyStart + r.keylen);
    if (binaryIsRead(r.loud)) d.counters.cmdGet++;
    if (r.loud === Opcode.Touch || r.loud === Opcode.Gat || r.loud === Opcode.GatK) d.counters.cmdTouch++;
    if (r.loud === Opcode.Set || r.loud === Opcode.Add || r.loud === Opcode.Replace || r.loud === Opcode.Append || r.loud === Opcode.Prepend) d.counters.cmdSet++;
    const packet = Buffer.allocUnsafe(keyStart + r.keylen + (value?.length ?? 0));
    head.copy(packet, 0, 0, keyStart + r.keylen);
    packet[1] = r.loud;
    packet.writeUInt32BE(r.extlen + r.keylen + r.vlen, 8);
    value?.copy(packet, keyStart + r.keylen);
    const slot = this.replies.add();
    const target = {
      complete: (out: Buffer | Buffer[] | null): void => {
        if (!(out instanceof Buffer)) return slot.complete(out);
        if (out[0] !== RESPONSE_MAGIC) return slot.complete(binaryProxyError(r, head, out));
        out[1] = r.opcode;
        slot.complete(r.quiet && binaryQuietDrops(r.opcode, out) ? null : out);
      },
    };
    const writes = !binaryIsRead(r.loud) && r.loud !== Opcode.Touch;
    d.binary(key.toString('latin1'), packet, target, binaryRetryable(r), this.lane, d.backups !== null && writes ? binaryMirror(key) : null);
  }

  /**
   * A storage command's value over the size limit (the connection skips it): memcached's
   * "Too large." (quiet or not), and for a set, as memcached does, the key's old value goes.
   */
  binaryTooLarge(r: BinRequest, head: Buffer): void {
    this.host.dispatcher.counters.requests++;
    this.binaryLocalReply(binaryError(r.opcode, Status.TooLarge, head, 12));
    if (r.loud !== Opcode.Set) return;
    const keyStart = HEADER_LENGTH + r.extlen;
    const key = head.subarray(keyStart, keyStart + r.keylen);
    const del = binaryMirror(key)(binaryResponse(0, Status.Success, head, 12))!;
    const d = this.host.dispatcher;
    d.binary(key.toString('latin1'), del, { complete: () => undefined }, true, this.lane, d.backups && binaryMirror(key));
  }

  /** A reply the proxy gives a binary request itself (an error, an unknown command...), in its place in the order. */
  binaryLocalReply(reply: Buffer | Buffer[] | null): void {
    this.replies.add().complete(reply);
  }

  /** noop, version, stat and flush, answered as the proxy answers their text forms. */
  private binaryLocal(r: BinRequest, head: Buffer): void {
    switch (r.loud) {
      case Opcode.Noop:
        return this.binaryLocalReply(binaryResponse(Opcode.Noop, Status.Success, head, 12));
      case Opcode.Version: {
        const v = this.host.versionLine;
        return this.binaryLocalReply(binaryResponse(Opcode.Version, Status.Success, head, 12, null, v.subarray(8, v.length - 2)));
      }
      case Opcode.Stat: {
        const key = head.toString('latin1', HEADER_LENGTH, HEADER_LENGTH + r.keylen);
        const slot = this.replies.add();
        this.host.stats(key.length === 0 ? [] : key.split(' '), this.lane, (text) =>
          slot.complete(text === null ? binaryError(r.opcode, Status.KeyNotFound, head, 12) : binaryStats(text, head)),
        );
        return;
      }
      case Opcode.Flush: {
        const d = this.host.dispatcher;
        d.counters.cmdFlush++;
        const packet = Buffer.from(head);
        packet[1] = r.loud;
        const slot = this.replies.add();
        const done = (out: Buffer | Buffer[] | null): void => {
          if (out instanceof Buffer && out.equals(OK)) return slot.complete(r.quiet ? null : binaryResponse(r.opcode, Status.Success, head, 12));
          if (!(out instanceof Buffer) || out[0] !== RESPONSE_MAGIC) return slot.complete(binaryProxyError(r, head, out instanceof Buffer ? out : SERVER_ERROR_UNAVAILABLE));
          out[1] = r.opcode;
          slot.complete(out);
        };
        d.flushAll(packet, { complete: done }, this.lane, true);
        return;
      }
    }
  }

  /** Runs one request that is not a storage command; `raw` is its line as the client sent it. */
  execute(req: LineRequest, raw: Buffer): void {
    const d = this.host.dispatcher;
    switch (req.kind) {
      case 'get': {
        d.counters.cmdGet += req.keys.length;
        if (req.touch) d.counters.cmdTouch += req.keys.length;
        if (req.badKey) {
          this.local(line('CLIENT_ERROR bad command line format'));
        } else {
          const cmd = `${req.touch ? 'gat' : 'get'}${req.withCas ? 's' : ''}`;
          d.get(req.touch ? `${cmd} ${req.exptime}` : cmd, req.keys, raw, this.replies.add(), this.lane);
        }
        return;
      }
      case 'arith':
        return this.keyed(req.key, req.noreply ? line(`${req.incr ? 'incr' : 'decr'} ${req.key} ${req.delta}`) : raw, req.noreply, false, d.backups && arithMirror(req.key));
      case 'delete':
        return this.keyed(req.key, req.noreply ? line(`delete ${req.key}`) : raw, req.noreply, true, d.backups && deleteMirror(req.key));
      case 'touch': {
        d.counters.cmdTouch++;
        const touch = line(`touch ${req.key} ${req.exptime}`);
        return this.keyed(req.key, req.noreply ? touch : raw, req.noreply, true, d.backups && touchMirror(touch));
      }
      case 'flush_all':
        if (req.delay === null) {
          if (!req.noreply) this.local(line('CLIENT_ERROR invalid exptime argument'));
          return;
        }
        d.counters.cmdFlush++;
        d.flushAll(line(`flush_all ${req.delay}`), req.noreply ? null : this.replies.add(), this.lane);
        return;
      case 'stats': {
        const slot = this.replies.add();
        this.host.stats(req.args, this.lane, (reply) => slot.complete(reply ?? ERROR));
        return;
      }
      case 'version':
        return this.local(this.host.versionLine);
      case 'verbosity':
        this.host.setVerbosity(Math.min(req.level, 2));
        if (!req.noreply) this.local(OK);
        return;
      case 'mn':
        return this.mn();
      case 'shutdown':
        return this.local(NO_SHUTDOWN);
      case 'error':
        if (!req.noreply) this.local(line(req.message));
        return;
    }
  }

  private keyed(key: string, bytes: Buffer, noreply: boolean, retryable: boolean, mirror: Mirror | null): void {
    this.host.dispatcher.write(key, bytes, noreply ? null : this.replies.add(), retryable, this.lane, mirror);
  }

  /** A reply the proxy gives itself, in its place in the order. */
  private local(reply: Buffer): void {
    this.replies.add().complete(reply);
  }
}
