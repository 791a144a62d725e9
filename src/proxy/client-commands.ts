import type { Request, StoreRequest } from '../protocol/request';
import type { Dispatcher, Mirror } from './dispatcher';
import type { ReplyOrder } from './reply-order';
import { metaRetryable, metaRouteKey, quietDrops, type MetaLine } from './meta-framer';
import { ReplyShape } from './reply-reader';

/** What carrying out a client's requests needs from the proxy. */
export interface CommandHost {
  readonly dispatcher: Dispatcher;
  readonly versionLine: Buffer;
  /** The whole reply to a `stats` request, or null for a sub-command the proxy does not know. */
  stats(args: string[]): Buffer | null;
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
      case 'stats':
        return this.local(this.host.stats(req.args) ?? ERROR);
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
