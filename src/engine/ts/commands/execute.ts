import type { Settings } from '../../../config/settings';
import type { ReplyWriter } from '../../../protocol/reply-writer';
import { BAD_COMMAND_LINE, type Request, type StoreOp, type StoreRequest } from '../../../protocol/request';
import { parseU64 } from '../../../protocol/numbers';
import { absoluteExpiry, nowSeconds } from '../store/clock';
import { Item, memcachedItemSize } from '../store/item';
import type { Store } from '../store/store';
import type { VersionClock } from '../store/version-clock';
import type { MutationLog } from '../replica/mutation-log';
import { newCommandCounters, type CommandCounters } from './counters';
import { renderStats, type StatsSources } from './stats';

const U64 = (1n << 64n) - 1n;

export type Outcome = 'continue' | 'close';

export interface CommandHost {
  readonly settings: Settings;
  readonly store: Store;
  readonly clock: VersionClock;
  readonly nodeId: number;
  /** This node's writes for the peer; null on a standalone node. */
  readonly log: MutationLog | null;
  /** `stats replication` as the replication layer last rendered it (it sets this); null on a standalone node. */
  replicationStats: string | null;
  readonly sources: StatsSources;
  /** `shutdown` (enabled by -A): stop the node, gracefully or not. */
  shutdown(graceful: boolean): void;
  setVerbosity(level: number): void;
}

/** memcached's command semantics over the store: a request (and its data block) in, reply bytes out. */
export class Commands {
  readonly counters: CommandCounters = newCommandCounters();
  private readonly itemSizeMax: number;

  constructor(private readonly host: CommandHost) {
    this.itemSizeMax = host.settings.itemSizeMax;
  }

  execute(req: Request, out: ReplyWriter): Outcome {
    switch (req.kind) {
      case 'get':
        this.get(req.keys, req.withCas, req.touch ? req.exptime : null, out);
        if (req.badKey) {
          // memcached releases every reply it has not sent yet, then reports the bad key.
          out.discard();
          out.line(BAD_COMMAND_LINE);
        }
        return 'continue';
      case 'arith': reply(out, req.noreply, this.arith(req.key, req.incr, req.delta)); return 'continue';
      case 'delete': reply(out, req.noreply, this.delete(req.key)); return 'continue';
      case 'touch': reply(out, req.noreply, this.touch(req.key, req.exptime)); return 'continue';
      case 'flush_all': reply(out, req.noreply, this.flushAll(req.delay)); return 'continue';
      case 'stats': this.stats(req.args, out); return 'continue';
      case 'version': out.line(`VERSION ${this.host.sources.version}`); return 'continue';
      case 'verbosity':
        this.host.setVerbosity(Math.min(req.level, 2));
        reply(out, req.noreply, 'OK');
        return 'continue';
      case 'mn': out.line('MN'); return 'continue';
      case 'quit':
        return 'close';
      case 'close':
        out.discard();
        return 'close';
      case 'shutdown':
        if (!this.host.settings.shutdownEnabled) {
          out.line('ERROR: shutdown not enabled');
          return 'continue';
        }
        if (req.mode === 'invalid') {
          out.line('CLIENT_ERROR invalid shutdown mode');
          return 'continue';
        }
        this.host.shutdown(req.mode === 'graceful');
        return 'close';
      case 'error':
        reply(out, req.noreply, req.message);
        return 'continue';
      case 'store':
        throw new Error('store requests go through admitStore and completeStore');
    }
  }

  /**
   * Decides before the data block is read whether it can be stored at all. Returns the error
   * line to send while the block is swallowed, or null to read it. Like memcached, a failed
   * `set` removes the old value so a stale one does not outlive the write.
   */
  admitStore(req: StoreRequest): string | null {
    const size = memcachedItemSize(req.key.length, req.flags, req.bytes + 2, this.host.settings.casEnabled);
    if (size <= this.itemSizeMax) return null;
    this.counters.store_too_large++;
    if (req.op === 'set') this.removeStale(req.key);
    return 'SERVER_ERROR object too large for cache';
  }

  /** Executes a storage command once its data block (value + 2 bytes) has arrived. */
  completeStore(req: StoreRequest, data: Buffer, out: ReplyWriter): void {
    this.counters.cmd_set++;
    if (data[data.length - 2] !== 13 || data[data.length - 1] !== 10) {
      reply(out, req.noreply, 'CLIENT_ERROR bad data chunk');
      return;
    }
    reply(out, req.noreply, this.store(req.op, req, data));
  }

  private store(op: StoreOp, req: StoreRequest, data: Buffer): string {
    const { store } = this.host;
    const now = nowSeconds();
    const old = store.get(req.key, now);
    let flags = req.flags;
    let exptime = absoluteExpiry(req.exptime, now);
    switch (op) {
      case 'add':
        if (old) {
          old.visited = true;
          return 'NOT_STORED';
        }
        break;
      case 'replace':
        if (!old) return 'NOT_STORED';
        break;
      case 'append':
      case 'prepend': {
        if (!old) return 'NOT_STORED';
        flags = old.flags;
        exptime = old.exptime;
        const value = old.data.subarray(0, old.data.length - 2);
        data = op === 'append' ? Buffer.concat([value, data]) : Buffer.concat([data.subarray(0, data.length - 2), old.data]);
        if (memcachedItemSize(req.key.length, flags, data.length, this.host.settings.casEnabled) > this.itemSizeMax) {
          return 'NOT_STORED';
        }
        break;
      }
      case 'cas':
        if (!old) {
          this.counters.cas_misses++;
          return 'NOT_FOUND';
        }
        if (req.cas === 0n || !this.host.settings.casEnabled || req.cas !== BigInt(old.version)) {
          this.counters.cas_badval++;
          return 'EXISTS';
        }
        this.counters.cas_hits++;
        break;
      case 'set':
        break;
    }
    const item = new Item(req.key, flags, exptime, data, this.host.clock.next(), this.host.nodeId);
    if (store.put(item, now) === 'no_memory') {
      this.counters.store_no_memory++;
      if (op === 'set') this.removeStale(req.key);
      return 'SERVER_ERROR out of memory storing object';
    }
    this.host.log?.set(item);
    return 'STORED';
  }

  private get(keys: string[], withCas: boolean, touchExptime: number | null, out: ReplyWriter): void {
    const { store } = this.host;
    const c = this.counters;
    const now = nowSeconds();
    const casEnabled = this.host.settings.casEnabled;
    const newExptime = touchExptime === null ? 0 : absoluteExpiry(touchExptime, now);
    for (const key of keys) {
      c.cmd_get++;
      if (touchExptime !== null) c.cmd_touch++;
      const item = store.get(key, now);
      if (!item) {
        c.get_misses++;
        if (touchExptime !== null) c.touch_misses++;
        continue;
      }
      c.get_hits++;
      if (touchExptime !== null) {
        c.touch_hits++;
        this.touchItem(item, newExptime);
      }
      item.visited = true;
      item.fetched = true;
      const cas = withCas ? ` ${casEnabled ? item.version : 0}` : '';
      out.text(`VALUE ${key} ${item.flags} ${item.valueLength}${cas}\r\n`);
      out.bytes(item.data);
    }
    out.line('END');
  }

  private arith(key: string, incr: boolean, delta: bigint): string {
    const { store } = this.host;
    const now = nowSeconds();
    const old = store.get(key, now);
    if (!old) {
      if (incr) this.counters.incr_misses++;
      else this.counters.decr_misses++;
      return 'NOT_FOUND';
    }
    const current = old.data.length > 2 ? parseU64(old.data.toString('latin1')) : null;
    if (current === null) return 'CLIENT_ERROR cannot increment or decrement non-numeric value';
    if (incr) this.counters.incr_hits++;
    else this.counters.decr_hits++;
    const next = incr ? (current + delta) & U64 : delta > current ? 0n : current - delta;
    const digits = next.toString();
    // memcached rewrites a number that still fits in place, padding with spaces.
    const width = old.valueLength;
    const text = digits.length <= width ? digits + ' '.repeat(width - digits.length) : digits;
    const item = new Item(key, old.flags, old.exptime, Buffer.from(text + '\r\n', 'latin1'), this.host.clock.next(), this.host.nodeId);
    item.visited = true;
    if (store.put(item, now) === 'no_memory') return 'SERVER_ERROR out of memory';
    this.host.log?.set(item);
    return digits;
  }

  private delete(key: string): string {
    const { store } = this.host;
    if (store.get(key, nowSeconds())) {
      this.removeStale(key);
      this.counters.delete_hits++;
      return 'DELETED';
    }
    this.counters.delete_misses++;
    return 'NOT_FOUND';
  }

  private touch(key: string, exptime: number): string {
    const now = nowSeconds();
    this.counters.cmd_touch++;
    const item = this.host.store.get(key, now);
    if (!item) {
      this.counters.touch_misses++;
      return 'NOT_FOUND';
    }
    this.counters.touch_hits++;
    this.touchItem(item, absoluteExpiry(exptime, now));
    item.visited = true;
    return 'TOUCHED';
  }

  /** A new expiry, same version (gets-then-cas still works); `touched` orders it on the peer. */
  private touchItem(item: Item, exptime: number): void {
    item.exptime = exptime;
    if (!this.host.log) return;
    item.touched = this.host.clock.next();
    this.host.log.touch(item);
  }

  /** Removes a key as a versioned delete: the peer drops it too, and older writes cannot bring it back. */
  private removeStale(key: string): void {
    const { store, log } = this.host;
    store.delete(key);
    if (!log) return;
    const version = this.host.clock.next();
    store.tombstones?.lay(key, version, this.host.nodeId, Date.now());
    log.delete(key, version);
  }

  private flushAll(delay: number | null): string {
    if (!this.host.settings.flushEnabled) return 'CLIENT_ERROR flush_all not allowed';
    if (delay === null) return 'CLIENT_ERROR invalid exptime argument';
    this.counters.cmd_flush++;
    const { store, log, clock } = this.host;
    const now = nowSeconds();
    // memcached: items last stored at or before (due - 1) vanish once that second has come.
    const oldestLive = delay > 0 ? absoluteExpiry(delay, now) - 1 : 0;
    if (delay <= 0 || (oldestLive !== 0 && oldestLive <= now)) {
      const version = clock.next();
      store.flushAll(version);
      log?.flush(version);
    }
    if (delay > 0) {
      const version = clock.next();
      store.flushAt(oldestLive, version);
      log?.flushAt(oldestLive, version);
    }
    return 'OK';
  }

  private stats(args: string[], out: ReplyWriter): void {
    const sub = args[0];
    if (sub === 'reset') {
      Object.assign(this.counters, newCommandCounters());
      this.host.sources.resetConnectionCounters();
      out.line('RESET');
      return;
    }
    if (sub === 'detail') {
      const mode = args.length >= 2 ? args[1] : '';
      if (mode === 'on' || mode === 'off') out.line('OK');
      else if (mode === 'dump') out.line('END');
      else out.line('CLIENT_ERROR usage: stats detail on|off|dump');
      return;
    }
    if (sub === 'replication' && this.host.replicationStats !== null) {
      out.text(this.host.replicationStats);
      // Live, unlike the lines above: the end of this node's stream, records not yet drained included.
      out.text(`STAT offset ${this.host.log?.end ?? 0}\r\n`);
      out.line('END');
      return;
    }
    const lines = renderStats(sub ?? '', this.host.settings, this.host.store, this.counters, this.host.sources);
    if (lines === null) {
      out.line('ERROR');
      return;
    }
    for (const [name, value] of lines) out.text(`STAT ${name} ${value}\r\n`);
    out.line('END');
  }
}

function reply(out: ReplyWriter, noreply: boolean, line: string): void {
  if (!noreply) out.line(line);
}
