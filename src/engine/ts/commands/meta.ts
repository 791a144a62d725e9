import { encodeBase64Key } from '../../../protocol/base64';
import { MAX_OPAQUE_LENGTH, type MetaRequest } from '../../../protocol/meta-request';
import type { ReplyWriter } from '../../../protocol/reply-writer';
import type { MetaSetRequest } from '../../../protocol/request';
import { absoluteExpiry, nowSeconds } from '../store/clock';
import { Item, MetaBit, memcachedItemSize } from '../store/item';
import { slabClassOf } from '../store/slab-classes';
import type { CommandCounters } from './counters';
import type { CommandHost } from './execute';
import type { ItemWrites } from './writes';

const CRLF = Buffer.from('\r\n', 'latin1');
const OPAQUE_TOO_LONG = 'CLIENT_ERROR opaque token too long';

/** How memcached prints a key back (META_KEY): as stored, or base64 with " b" after it. */
function keyFlag(key: string, binary: boolean): string {
  return binary ? ` k${encodeBase64Key(key)} b` : ` k${key}`;
}

/** memcached prints remaining TTLs as unsigned 32-bit; -1 for none. */
function ttlText(exptime: number, now: number): string {
  return exptime === 0 ? '-1' : String((exptime - now) >>> 0);
}

/** The O and k return flags every reply carries, in request order; null when an opaque is too long. */
function echoFlags(m: MetaRequest): string | null {
  let s = '';
  for (const t of m.tokens) {
    if (t[0] === 'O') {
      if (t.length > MAX_OPAQUE_LENGTH) return null;
      s += ' ' + t;
    } else if (t[0] === 'k') {
      s += keyFlag(m.key, m.keyBinary);
    }
  }
  return s;
}

/**
 * memcached 1.6.18's meta commands (mg ms md ma me) over the store, return flags in request
 * order, with the flags doc/protocol.txt 1.6.45 adds. Errors are never quieted (memcached's
 * out_errstring); `q` hides only the nominal reply of each command.
 */
export class MetaCommands {
  constructor(
    private readonly host: CommandHost,
    private readonly counters: CommandCounters,
    private readonly writes: ItemWrites,
  ) {}

  execute(cmd: 'mg' | 'md' | 'ma', m: MetaRequest, out: ReplyWriter): void {
    const line = cmd === 'mg' ? this.get(m, out) : cmd === 'md' ? this.delete(m, out) : this.arith(m, out);
    if (line !== null) out.line(line);
  }

  /** me: memcached's debug line, for an item that is not bumped by it. */
  me(key: string, out: ReplyWriter): void {
    const { store, settings } = this.host;
    const now = nowSeconds();
    const item = store.get(key, now);
    this.counters.cmd_meta++;
    if (!item) {
      out.line('EN');
      return;
    }
    const shown = item.keyBinary ? encodeBase64Key(item.key) : item.key;
    const size = memcachedItemSize(item.key.length, item.flags, item.data.length, settings.casEnabled);
    const cls = slabClassOf(size, settings.itemSizeMax);
    const exp = item.exptime === 0 ? -1 : (now - item.exptime) | 0;
    out.line(`ME ${shown} exp=${exp} la=${now - item.lastAccess} cas=${item.cas(settings.casEnabled)} fetch=${item.fetched ? 'yes' : 'no'} cls=${cls} size=${size}`);
  }

  /** Refuses an ms whose item memcached could not allocate; the caller swallows the block. */
  admitSet(req: MetaSetRequest): string | null {
    const { m } = req;
    const size = memcachedItemSize(m.key.length, m.clientFlags, req.bytes + 2, this.host.settings.casEnabled);
    if (size <= this.host.settings.itemSizeMax) return null;
    this.counters.store_too_large++;
    this.writes.removeStale(m.key);
    return 'SERVER_ERROR object too large for cache';
  }

  completeSet(req: MetaSetRequest, data: Buffer, out: ReplyWriter): void {
    this.counters.cmd_set++;
    if (data[data.length - 2] !== 13 || data[data.length - 1] !== 10) {
      out.line('CLIENT_ERROR bad data chunk');
      return;
    }
    const { m, op } = req;
    const now = nowSeconds();
    const vivify = (op === 'append' || op === 'prepend') && m.vivifyTtl !== null;
    const { status, item } = this.writes.store(op, {
      key: m.key, flags: m.clientFlags, exptime: absoluteExpiry(m.ttl ?? 0, now), data, cas: m.compareCas ?? 0n,
      staleOnOlder: m.stale && op === 'cas', vivifyExptime: vivify ? absoluteExpiry(m.vivifyTtl!, now) : null,
      newCas: m.newCas ?? 0n, keyBinary: m.keyBinary,
    }, now);
    if (status === 'NO_MEMORY') {
      out.line('SERVER_ERROR out of memory storing object');
      return;
    }
    if (status === 'STORED' && m.quiet) return;
    let line = status === 'STORED' ? 'HD' : status === 'EXISTS' ? 'EX' : status === 'NOT_FOUND' ? 'NF' : 'NS';
    for (const t of m.tokens) {
      switch (t[0]) {
        case 'O': line += ' ' + t; break;
        case 'k': line += keyFlag(m.key, m.keyBinary); break;
        // memcached has the CAS only of a stored item; it reports 0 otherwise.
        case 'c': line += ` c${item ? item.cas(this.host.settings.casEnabled) : 0}`; break;
        case 's': line += ` s${item ? item.valueLength : data.length - 2}`; break;
      }
    }
    out.line(line);
  }

  /** A read's mark on the item: eviction's visited bit, fetched (h) and the last access (l). */
  private markAccess(item: Item, now: number): void {
    item.visited = true;
    item.fetched = true;
    item.atime = now;
  }

  /** mg. Returns the line to send after what it wrote, or null. */
  private get(m: MetaRequest, out: ReplyWriter): string | null {
    const { store, settings } = this.host;
    const c = this.counters;
    const now = nowSeconds();
    let item = store.get(m.key, now);
    let created = false;
    if (!item && m.vivifyTtl !== null) {
      // The lease stub: empty, flags 0, no key mark (memcached does not set it here).
      const stub = new Item(m.key, 0, 0, CRLF, this.host.clock.next(), this.host.nodeId);
      if (settings.casEnabled) stub.explicitCas = m.newCas ?? 0n;
      if (store.put(stub, now) === 'stored') {
        item = stub;
        created = true;
      }
    }
    if (!item) {
      c.cmd_get++;
      c.get_misses++;
      const flags = echoFlags(m);
      if (flags === null) return OPAQUE_TOO_LONG;
      return m.quiet ? null : 'EN' + flags;
    }
    const cas = item.cas(settings.casEnabled);
    const value = m.value && !(m.compareCas !== null && m.compareCas === cas);
    let line = value ? `VA ${item.valueLength}` : 'HD';
    let won = false;
    let touched = false;
    let failed = false;
    for (const t of m.tokens) {
      switch (t[0]) {
        case 'T': {
          // At its position: flags before it report the old expiry.
          const exptime = absoluteExpiry(m.ttl!, now);
          if (created) item.exptime = exptime;
          else this.writes.touch(item, exptime);
          touched = true;
          break;
        }
        case 'N':
          if (created) {
            item.exptime = absoluteExpiry(m.vivifyTtl!, now);
            won = true;
          }
          break;
        case 'R':
          if (!item.winSent && !created && item.exptime !== 0 && item.exptime < absoluteExpiry(m.recacheTtl!, now)) won = true;
          break;
        case 's': line += ` s${item.valueLength}`; break;
        case 't': line += ` t${ttlText(item.exptime, now)}`; break;
        case 'c': line += ` c${item.cas(settings.casEnabled)}`; break;
        case 'f': line += ` f${item.flags}`; break;
        case 'l': line += ` l${now - item.lastAccess}`; break;
        case 'h': line += item.fetched ? ' h1' : ' h0'; break;
        case 'O':
          if (t.length > MAX_OPAQUE_LENGTH) failed = true;
          else line += ' ' + t;
          break;
        case 'k': line += keyFlag(item.key, item.keyBinary); break;
      }
      if (failed) break;
    }
    if (failed) {
      // What came before the bad opaque stays done (the stub, a new TTL); nothing is counted.
      if (created) this.host.log?.set(item);
      // memcached marks the access when it looks the item up, unless a flag needs the state
      // before it (h, l) or changes the item (N, T, R): then only after the flags.
      if (!m.noUpdate && !m.tokens.some((t) => 'hlNTR'.includes(t[0]!))) this.markAccess(item, now);
      return OPAQUE_TOO_LONG;
    }
    // Z before X and W, so a client never sees W with Z.
    if (item.winSent) line += ' Z';
    if (item.stale) {
      line += ' X';
      if (!item.winSent) won = true;
    }
    if (won) {
      line += ' W';
      item.metaBits |= MetaBit.WinSent;
    }
    // The stub is logged once complete: its expiry and its win mark travel with it.
    if (created) this.host.log?.set(item);
    if (!m.noUpdate) this.markAccess(item, now);
    if (touched) {
      c.cmd_touch++;
      c.touch_hits++;
    } else {
      c.cmd_get++;
      c.get_hits++;
    }
    out.line(line);
    if (value) out.bytes(item.data);
    // memcached's resp->item: the item stays referenced until the reply is transmitted.
    out.hold(item);
    return null;
  }

  /** md; x (empty the value, keep the item) as 1.6.45 does it. */
  private delete(m: MetaRequest, out: ReplyWriter): string | null {
    const { store, settings } = this.host;
    const now = nowSeconds();
    const flags = echoFlags(m);
    if (flags === null) return OPAQUE_TOO_LONG;
    const item = store.get(m.key, now);
    if (!item) {
      this.counters.delete_misses++;
      return 'NF' + flags;
    }
    if (m.compareCas !== null && item.cas(settings.casEnabled) !== m.compareCas) {
      this.counters.delete_misses++;
      return 'EX' + flags;
    }
    if (m.stale || m.removeValue) {
      // x makes an empty item (F and T of the request, the old CAS unless E); I marks it stale
      // with a new CAS and clears the token so the next asker wins. Either is a write.
      let exptime = item.exptime;
      let bits = item.metaBits;
      let explicitCas = item.explicitCas;
      let data = item.data;
      let itemFlags = item.flags;
      if (m.removeValue) {
        exptime = absoluteExpiry(m.ttl ?? 0, now);
        bits = 0;
        explicitCas = m.newCas ?? item.cas(settings.casEnabled);
        data = CRLF;
        itemFlags = m.clientFlags;
      }
      if (m.stale) {
        if (m.ttl !== null) exptime = absoluteExpiry(m.ttl, now);
        bits = (bits | MetaBit.Stale) & ~MetaBit.WinSent;
        explicitCas = m.newCas ?? 0n;
      }
      const rewritten = this.writes.rewrite(item, exptime, bits, explicitCas, data, itemFlags, now);
      if (rewritten === null) return m.removeValue ? 'NS' + flags : 'SERVER_ERROR out of memory';
      // memcached marks the same item: an unsent reply that holds it holds the rewritten one.
      if (out.holds(item)) out.hold(rewritten);
      if (!m.stale) this.counters.delete_hits++;
    } else {
      this.counters.delete_hits++;
      this.writes.removeStale(m.key);
    }
    return m.quiet ? null : 'HD' + flags;
  }

  /** ma: incr/decr with CAS, autovivify (N, J), return flags computed after the change. */
  private arith(m: MetaRequest, out: ReplyWriter): string | null {
    let incr: boolean;
    switch (m.mode) {
      case '': case 'I': case '+': incr = true; break;
      case 'D': case '-': incr = false; break;
      default: return 'CLIENT_ERROR invalid mode for ma M token';
    }
    const { settings, store } = this.host;
    const now = nowSeconds();
    const r = this.writes.addDelta(m.key, incr, m.delta, m.compareCas ?? 0n, m.newCas ?? 0n, now, (it) => out.holds(it));
    let item: Item | null = null;
    let digits = '';
    let created = false;
    let inPlace = false;
    let line = '';
    switch (r.status) {
      case 'OK':
        ({ item, digits, inPlace } = r);
        break;
      case 'NON_NUMERIC': return 'CLIENT_ERROR cannot increment or decrement non-numeric value';
      case 'NO_MEMORY': return 'SERVER_ERROR out of memory';
      case 'EXISTS': line = 'EX'; break;
      case 'NOT_FOUND':
        if (m.vivifyTtl === null) {
          if (incr) this.counters.incr_misses++;
          else this.counters.decr_misses++;
          line = 'NF';
          break;
        }
        digits = m.initial.toString();
        item = new Item(m.key, 0, 0, Buffer.from(digits + '\r\n', 'latin1'), this.host.clock.next(), this.host.nodeId);
        if (settings.casEnabled) item.explicitCas = m.newCas ?? 0n;
        if (store.put(item, now) === 'no_memory') return 'SERVER_ERROR Out of memory allocating new item';
        created = true;
        break;
    }
    if (item === null) {
      const flags = echoFlags(m);
      return flags === null ? OPAQUE_TOO_LONG : line + flags;
    }
    // Only a number rewritten in place or a created item is the linked one: memcached's T and
    // N on a grown number change the old copy, which `t` then still reports.
    const linked = inPlace || created;
    let exptime = item.exptime;
    line = m.value ? `VA ${digits.length}` : 'HD';
    let failed = false;
    for (const t of m.tokens) {
      switch (t[0]) {
        case 'c': line += ` c${item.cas(settings.casEnabled)}`; break;
        case 't': line += ` t${ttlText(exptime, now)}`; break;
        case 'T':
          exptime = absoluteExpiry(m.ttl!, now);
          if (linked) item.exptime = exptime;
          break;
        case 'N':
          if (created) item.exptime = exptime = absoluteExpiry(m.vivifyTtl!, now);
          break;
        case 'O':
          if (t.length > MAX_OPAQUE_LENGTH) failed = true;
          else line += ' ' + t;
          break;
        case 'k': line += keyFlag(m.key, m.keyBinary); break;
      }
      if (failed) break;
    }
    this.host.log?.set(item);
    if (failed) return OPAQUE_TOO_LONG;
    // 1.6.18 quiets only the incr/decr of an existing number, not a created one.
    if (m.quiet && !created) return null;
    out.line(line);
    if (m.value) out.line(digits);
    return null;
  }
}
