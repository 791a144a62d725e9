import {
  checkLengths, commandOf, counterValue, errorPacket, flagsExtras, frameFits, HEADER_LENGTH, MAX_SASL_MECH_LENGTH,
  NO_AUTOVIVIFY, Opcode, responsePacket, statPacket, Status, type RequestHeader,
} from '../../../protocol/binary';
import type { ReplyWriter } from '../../../protocol/reply-writer';
import type { StoreOp } from '../../../protocol/request';
import type { Credentials } from '../auth/credentials';
import { absoluteExpiry, nowSeconds } from '../store/clock';
import { memcachedItemSize, SLAB_CHUNK_MAX } from '../store/item';
import type { CommandCounters } from './counters';
import type { CommandHost } from './execute';
import { renderStats, type StatLine } from './stats';
import type { ItemWrites, StoreStatus } from './writes';

const CRLF = Buffer.from('\r\n', 'latin1');
/** What memcached's SASL (configured with `mech_list: plain`) offers. */
const SASL_MECHANISMS = 'PLAIN';

/**
 * What the connection does after a packet, as memcached's connection states after
 * dispatch_bin_command:
 * - 'next': the next packet (conn_new_cmd); `transmit`: send what is composed first
 *   (conn_mwrite: noop, an error without a body to swallow, SASL continue); `delay`: a failed
 *   authentication, whose reply waits 500 ms while the connection reads nothing;
 * - 'close': send what is composed, then close (protocol errors, quit);
 * - 'swallow': throw `bytes` of input away, then the next packet (no transmit before);
 * - 'value': read `bytes` of value, then completeValue().
 */
export type BinaryNext =
  | { kind: 'next'; transmit: boolean; delay: boolean }
  | { kind: 'close' }
  | { kind: 'swallow'; bytes: number }
  | { kind: 'value'; bytes: number; pending: PendingValue };

/** A command waiting for its value: set/add/replace/append/prepend, or SASL data. */
export interface PendingValue {
  header: RequestHeader;
  op: number;
  quiet: boolean;
  key: string;
  flags: number;
  exptime: number;
}

/** One connection's SASL state (memcached's c->authenticated and c->sasl_started). */
export interface BinarySession {
  authenticated: boolean;
  /** A PLAIN exchange was started without the credentials: the next step carries them. */
  saslStarted: boolean;
}

const NEXT: BinaryNext = { kind: 'next', transmit: false, delay: false };
const TRANSMIT: BinaryNext = { kind: 'next', transmit: true, delay: false };
const CLOSE: BinaryNext = { kind: 'close' };

/** The host's operations the binary commands share with the text ones. */
export interface SharedCommands {
  /** flush_all with a delay in seconds (0: now), flush_all being enabled; counts cmd_flush. */
  flush(delay: number): void;
  /** stats reset. */
  resetStats(): void;
}

/**
 * memcached 1.6.18's binary protocol (proto_bin.c) over the store, through the writes the
 * text and meta commands share. Replies go to the ReplyWriter as whole packets; the opaque
 * and the request's opcode are echoed, CAS is the one the text protocol shows.
 */
export class BinaryCommands {
  constructor(
    private readonly host: CommandHost,
    private readonly counters: CommandCounters,
    private readonly writes: ItemWrites,
    private readonly shared: SharedCommands,
    private readonly sasl: Credentials,
  ) {}

  /**
   * dispatch_bin_command for a header whose extras and key (`body`, HEADER_LENGTH bytes in)
   * have arrived; the value, if any, has not been read.
   */
  dispatch(h: RequestHeader, body: Buffer, session: BinarySession, out: ReplyWriter): BinaryNext {
    const { settings } = this.host;
    if (!frameFits(h)) return this.fail(h, Status.UnknownCommand, out, CLOSE);
    if (settings.sasl && !session.authenticated && !passesUnauthenticated(h.opcode)) {
      return this.fail(h, Status.AuthError, out, CLOSE);
    }
    const { op, quiet } = commandOf(h.opcode);
    const verdict = checkLengths(op, h);
    if (verdict === 'key' || verdict === 'invalid') return this.fail(h, Status.InvalidArguments, out, CLOSE);
    // memcached swallows the body length again after the extras and key it already read.
    if (verdict === 'unknown') return this.fail(h, Status.UnknownCommand, out, this.swallow(h.bodyLength));
    const extras = body.subarray(HEADER_LENGTH, HEADER_LENGTH + h.extrasLength);
    const keyBytes = body.subarray(HEADER_LENGTH + h.extrasLength, HEADER_LENGTH + h.extrasLength + h.keyLength);
    const key = keyBytes.toString('latin1');
    switch (op) {
      case Opcode.Version:
        out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, Buffer.from(this.host.sources.version, 'latin1')));
        return NEXT;
      case Opcode.Noop:
        out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, null));
        return TRANSMIT;
      case Opcode.Quit:
        if (!quiet) out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, null));
        return CLOSE;
      case Opcode.Flush:
        if (!settings.flushEnabled) return this.fail(h, Status.AuthError, out, TRANSMIT);
        this.shared.flush(h.extrasLength === 4 ? extras.readUInt32BE(0) : 0);
        if (!quiet) out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, null));
        return NEXT;
      case Opcode.Get:
      case Opcode.GetK:
      case Opcode.Touch:
      case Opcode.Gat:
      case Opcode.GatK:
        return this.getOrTouch(h, op, quiet, key, keyBytes, extras, out);
      case Opcode.Delete:
        return this.delete(h, quiet, key, out);
      case Opcode.Increment:
      case Opcode.Decrement:
        return this.arith(h, op === Opcode.Increment, quiet, key, extras, out);
      case Opcode.Set:
      case Opcode.Add:
      case Opcode.Replace:
      case Opcode.Append:
      case Opcode.Prepend:
        return this.update(h, op, quiet, key, extras, out);
      case Opcode.Stat:
        return this.stat(h, key, out);
      case Opcode.SaslListMechs:
        if (!settings.sasl) return this.fail(h, Status.UnknownCommand, out, this.swallow(h.bodyLength - h.keyLength));
        // memcached's init_sasl_conn: listing the mechanisms starts over, unauthenticated.
        session.authenticated = false;
        out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, Buffer.from(SASL_MECHANISMS, 'latin1')));
        return NEXT;
      case Opcode.SaslAuth:
      case Opcode.SaslStep: {
        const vlen = h.bodyLength - h.keyLength;
        if (!settings.sasl) return this.fail(h, Status.UnknownCommand, out, this.swallow(vlen));
        if (h.keyLength > MAX_SASL_MECH_LENGTH) return this.fail(h, Status.InvalidArguments, out, { kind: 'swallow', bytes: vlen });
        // item_alloc for the data: too large, or chunked (SASL data may not be), is out of memory.
        if (memcachedItemSize(h.keyLength, 0, vlen + 2, settings.casEnabled) > Math.min(settings.itemSizeMax, SLAB_CHUNK_MAX)) {
          return this.fail(h, Status.OutOfMemory, out, { kind: 'swallow', bytes: vlen });
        }
        return this.value(h, op, false, key, 0, 0, vlen);
      }
      default:
        throw new Error(`opcode ${op} passed checkLengths without a handler`);
    }
  }

  /** complete_nread_binary: the value of a pending command has arrived. */
  completeValue(p: PendingValue, value: Buffer, session: BinarySession, out: ReplyWriter): BinaryNext {
    if (p.op === Opcode.SaslAuth || p.op === Opcode.SaslStep) return this.saslData(p, value, session, out);
    return this.completeUpdate(p, value, out);
  }

  /** write_bin_error: the status and its text; `next` says what follows. */
  private fail(h: RequestHeader, status: Status, out: ReplyWriter, next: BinaryNext, text?: string): BinaryNext {
    out.bytes(errorPacket(h.opcode, status, h.opaque, text));
    return next;
  }

  /** write_bin_error's swallow argument: nothing to swallow transmits at once (conn_mwrite). */
  private swallow(bytes: number): BinaryNext {
    return bytes > 0 ? { kind: 'swallow', bytes } : TRANSMIT;
  }

  private value(h: RequestHeader, op: number, quiet: boolean, key: string, flags: number, exptime: number, bytes: number): BinaryNext {
    return { kind: 'value', bytes, pending: { header: h, op, quiet, key, flags, exptime } };
  }

  /** process_bin_get_or_touch. */
  private getOrTouch(h: RequestHeader, op: number, quiet: boolean, key: string, keyBytes: Buffer, extras: Buffer, out: ReplyWriter): BinaryNext {
    const c = this.counters;
    const now = nowSeconds();
    const touch = op === Opcode.Touch || op === Opcode.Gat || op === Opcode.GatK;
    const withKey = op === Opcode.GetK || op === Opcode.GatK;
    const item = this.host.store.get(key, now);
    if (touch) c.cmd_touch++;
    else c.cmd_get++;
    if (!item) {
      if (touch) c.touch_misses++;
      else c.get_misses++;
      if (quiet) return NEXT;
      if (!withKey) return this.fail(h, Status.KeyNotFound, out, TRANSMIT);
      // write_bin_miss_response: the key as the key, no text; not a transmit point.
      out.bytes(responsePacket(h.opcode, Status.KeyNotFound, h.opaque, 0n, null, keyBytes, null));
      return NEXT;
    }
    if (touch) {
      c.touch_hits++;
      this.writes.touch(item, absoluteExpiry(extras.readUInt32BE(0), now));
    } else {
      c.get_hits++;
    }
    item.visited = true;
    item.fetched = true;
    item.atime = now;
    const value = op === Opcode.Touch ? null : item.data.subarray(0, item.data.length - 2);
    out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, item.cas(this.host.settings.casEnabled), flagsExtras(item.flags), withKey ? keyBytes : null, value));
    // memcached's resp->item: the item stays referenced until the reply is transmitted.
    out.hold(item);
    return NEXT;
  }

  /** process_bin_delete: a CAS, when given, must match; a mismatch counts nothing. */
  private delete(h: RequestHeader, quiet: boolean, key: string, out: ReplyWriter): BinaryNext {
    const item = this.host.store.get(key, nowSeconds());
    if (!item) {
      this.counters.delete_misses++;
      return this.fail(h, Status.KeyNotFound, out, TRANSMIT);
    }
    if (h.cas !== 0n && h.cas !== item.cas(this.host.settings.casEnabled)) return this.fail(h, Status.KeyExists, out, TRANSMIT);
    this.counters.delete_hits++;
    this.writes.removeStale(key);
    if (!quiet) out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, null));
    return NEXT;
  }

  /** complete_incr_bin: delta, initial value, expiry; all ones: a miss is not created. */
  private arith(h: RequestHeader, incr: boolean, quiet: boolean, key: string, extras: Buffer, out: ReplyWriter): BinaryNext {
    const delta = extras.readBigUInt64BE(0);
    const initial = extras.readBigUInt64BE(8);
    const expiration = extras.readUInt32BE(16);
    const now = nowSeconds();
    const casEnabled = this.host.settings.casEnabled;
    const r = this.writes.addDelta(key, incr, delta, h.cas, 0n, now, (item) => out.holds(item));
    const reply = (cas: bigint, value: bigint): BinaryNext => {
      if (!quiet) out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, cas, null, null, counterValue(value)));
      return NEXT;
    };
    switch (r.status) {
      case 'OK':
        this.host.log?.set(r.item);
        return reply(r.item.cas(casEnabled), BigInt(r.digits));
      case 'NON_NUMERIC': return this.fail(h, Status.NonNumeric, out, TRANSMIT);
      case 'NO_MEMORY': return this.fail(h, Status.OutOfMemory, out, TRANSMIT, 'Out of memory incrementing value');
      case 'EXISTS': return this.fail(h, Status.KeyExists, out, TRANSMIT);
      case 'NOT_FOUND':
        break;
    }
    if (expiration === NO_AUTOVIVIFY) {
      if (incr) this.counters.incr_misses++;
      else this.counters.decr_misses++;
      return this.fail(h, Status.KeyNotFound, out, TRANSMIT);
    }
    // A new counter is an add of the initial value: counted as neither a miss nor a set.
    const digits = initial.toString();
    const { status, item } = this.writes.store('add', {
      key, flags: 0, exptime: absoluteExpiry(expiration, now), data: Buffer.from(digits + '\r\n', 'latin1'), cas: 0n,
      staleOnOlder: false, vivifyExptime: null, newCas: 0n, keyBinary: false,
    }, now);
    if (status === 'NO_MEMORY') return this.fail(h, Status.OutOfMemory, out, TRANSMIT, 'Out of memory allocating new item');
    if (status !== 'STORED') return this.fail(h, Status.NotStored, out, TRANSMIT);
    return reply(item!.cas(casEnabled), initial);
  }

  /**
   * process_bin_update and process_bin_append_prepend: the item's size is checked before the
   * value is read (too large: the value is swallowed, a set's old value removed).
   */
  private update(h: RequestHeader, op: number, quiet: boolean, key: string, extras: Buffer, out: ReplyWriter): BinaryNext {
    const { settings } = this.host;
    const appending = op === Opcode.Append || op === Opcode.Prepend;
    const flags = appending ? 0 : extras.readUInt32BE(0);
    const exptime = appending ? 0 : extras.readUInt32BE(4);
    const vlen = h.bodyLength - h.keyLength - h.extrasLength;
    if (memcachedItemSize(h.keyLength, flags, vlen + 2, settings.casEnabled) > settings.itemSizeMax) {
      // Unlike the text protocol, memcached's binary path counts no store_too_large.
      if (op === Opcode.Set) this.writes.removeStale(key);
      return this.fail(h, Status.TooLarge, out, { kind: 'swallow', bytes: vlen });
    }
    return this.value(h, op, quiet, key, flags, exptime, vlen);
  }

  /** complete_update_bin: a CAS turns set, add and replace into cas (append and prepend compare it). */
  private completeUpdate(p: PendingValue, value: Buffer, out: ReplyWriter): BinaryNext {
    const { header: h, op } = p;
    const { settings } = this.host;
    this.counters.cmd_set++;
    const now = nowSeconds();
    const cas = settings.casEnabled ? h.cas : 0n;
    const storeOp: StoreOp = op === Opcode.Append ? 'append' : op === Opcode.Prepend ? 'prepend'
      : cas !== 0n ? 'cas' : op === Opcode.Add ? 'add' : op === Opcode.Replace ? 'replace' : 'set';
    const { status, item } = this.writes.store(storeOp, {
      key: p.key, flags: p.flags, exptime: absoluteExpiry(p.exptime, now), data: Buffer.concat([value, CRLF]), cas,
      staleOnOlder: false, vivifyExptime: null, newCas: 0n, keyBinary: false,
    }, now);
    if (status === 'STORED') {
      if (!p.quiet) out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, item!.cas(settings.casEnabled), null, null, null));
      return NEXT;
    }
    return this.fail(h, updateFailure(storeOp, status), out, TRANSMIT);
  }

  /** process_bin_stat: one packet per stat, an empty one ends the group. */
  private stat(h: RequestHeader, group: string, out: ReplyWriter): BinaryNext {
    const lines = this.statLines(group);
    if (lines === null) return this.fail(h, Status.KeyNotFound, out, TRANSMIT);
    for (const [name, value] of lines) out.bytes(statPacket(h.opaque, name, String(value)));
    out.bytes(statPacket(h.opaque, '', ''));
    return NEXT;
  }

  /**
   * The groups as memcached's binary stat finds them: reset, settings and detail by prefix
   * (detail's sub-command after its space), the others by their whole name; conns is a
   * text-protocol group only. Null: not found.
   */
  private statLines(group: string): StatLine[] | null {
    const { host } = this;
    if (group.startsWith('reset')) {
      this.shared.resetStats();
      return [];
    }
    if (group.startsWith('settings')) return renderStats('settings', host.settings, host.store, this.counters, host.sources);
    if (group.startsWith('detail')) {
      const sub = group.slice(6);
      if (sub.startsWith(' dump')) return [['detailed', 'END\r\n']];
      if (sub.startsWith(' on') || sub.startsWith(' off')) return [];
      return null;
    }
    if (group === 'replication') {
      if (host.replicationStats === null) return null;
      const lines: StatLine[] = host.replicationStats.split('\r\n').filter((l) => l.startsWith('STAT ')).map((l) => {
        const rest = l.slice(5);
        const sp = rest.indexOf(' ');
        return sp < 0 ? [rest, ''] : [rest.slice(0, sp), rest.slice(sp + 1)];
      });
      lines.push(['offset', host.log?.end ?? 0]);
      return lines;
    }
    if (group === 'conns') return null;
    return renderStats(group, host.settings, host.store, this.counters, host.sources);
  }

  /**
   * process_bin_complete_sasl_auth with PLAIN (authzid NUL user NUL password) as the only
   * mechanism. Every attempt starts unauthenticated; a failure is answered after the delay.
   */
  private saslData(p: PendingValue, value: Buffer, session: BinarySession, out: ReplyWriter): BinaryNext {
    const h = p.header;
    session.authenticated = false;
    let result: 'ok' | 'continue' | 'fail';
    if (p.op === Opcode.SaslAuth) {
      if (p.key.toUpperCase() !== 'PLAIN') result = 'fail';
      else if (value.length === 0) result = 'continue';
      else result = this.checkPlain(value) ? 'ok' : 'fail';
      session.saslStarted = result === 'continue';
    } else {
      result = session.saslStarted && value.length > 0 && this.checkPlain(value) ? 'ok' : 'fail';
      session.saslStarted = false;
    }
    switch (result) {
      case 'ok':
        session.authenticated = true;
        this.counters.auth_cmds++;
        out.bytes(responsePacket(h.opcode, Status.Success, h.opaque, 0n, null, null, Buffer.from('Authenticated', 'latin1')));
        return NEXT;
      case 'continue':
        out.bytes(responsePacket(h.opcode, Status.AuthContinue, h.opaque, 0n, null, null, null));
        return TRANSMIT;
      case 'fail':
        this.counters.auth_cmds++;
        this.counters.auth_errors++;
        out.bytes(errorPacket(h.opcode, Status.AuthError, h.opaque));
        return { kind: 'next', transmit: true, delay: true };
    }
  }

  /** PLAIN's message: the authorization id must be empty or the user's own. */
  private checkPlain(message: Buffer): boolean {
    const a = message.indexOf(0);
    const b = a < 0 ? -1 : message.indexOf(0, a + 1);
    if (b < 0) return false;
    const authzid = message.toString('latin1', 0, a);
    const user = message.toString('latin1', a + 1, b);
    const password = message.toString('latin1', b + 1);
    if (authzid !== '' && authzid !== user) return false;
    return this.sasl.check(user, password);
  }
}

/** authenticated(): what an unauthenticated connection may send with -S. */
function passesUnauthenticated(opcode: number): boolean {
  return opcode === Opcode.SaslListMechs || opcode === Opcode.SaslAuth || opcode === Opcode.SaslStep || opcode === Opcode.Version;
}

/** complete_update_bin's statuses for what was not stored. */
function updateFailure(op: StoreOp, status: StoreStatus): Status {
  switch (status) {
    case 'EXISTS': return Status.KeyExists;
    case 'NOT_FOUND': return Status.KeyNotFound;
    default:
      return op === 'add' ? Status.KeyExists : op === 'replace' ? Status.KeyNotFound : Status.NotStored;
  }
}
