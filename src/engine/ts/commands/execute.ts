import type { Settings } from '../../../config/settings';
import type { ReplyWriter } from '../../../protocol/reply-writer';
import { MAX_WORDS, tokenize } from '../../../protocol/tokens';
import { BAD_COMMAND_LINE, type MetaSetRequest, type Request, type StoreRequest } from '../../../protocol/request';
import { absoluteExpiry, longAgo, nowSeconds } from '../store/clock';
import { memcachedItemSize } from '../store/item';
import type { Store } from '../store/store';
import type { VersionClock } from '../store/version-clock';
import type { MutationLog } from '../replica/mutation-log';
import { newCommandCounters, type CommandCounters } from './counters';
import { Credentials } from '../auth/credentials';
import { BinaryCommands } from './binary';
import { MetaCommands } from './meta';
import { renderStats, type StatLine, type StatsSources } from './stats';
import { ItemWrites } from './writes';

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
  private readonly writes: ItemWrites;
  private readonly meta: MetaCommands;
  readonly binary: BinaryCommands;
  /** The users -S and -Y accept (TsEngine.setCredentials). */
  readonly credentials = { sasl: new Credentials(), ascii: new Credentials() };

  get settings(): Settings {
    return this.host.settings;
  }

  constructor(private readonly host: CommandHost) {
    this.itemSizeMax = host.settings.itemSizeMax;
    this.writes = new ItemWrites(host, this.counters);
    this.meta = new MetaCommands(host, this.counters, this.writes);
    this.binary = new BinaryCommands(host, this.counters, this.writes, {
      flush: (delay) => this.flushAll(delay),
      resetStats: () => this.resetStats(),
    }, this.credentials.sasl);
  }

  /**
   * -Y: the data of the `set` that authenticates a text connection (proto_text.c's
   * try_read_command_asciiauth), value and its "\r\n". Returns the reply and whether the
   * connection is now authenticated.
   */
  authenticateText(data: Buffer): { line: string; ok: boolean } {
    if (data[data.length - 2] !== 13 || data[data.length - 1] !== 10) return { line: 'CLIENT_ERROR bad command line termination', ok: false };
    const words: string[] = [];
    tokenize(data, 0, data.length - 2, MAX_WORDS, words);
    if (words.length < 2) return { line: 'CLIENT_ERROR bad authentication token format', ok: false };
    this.counters.auth_cmds++;
    // memcached compares C strings: a NUL ends the user or the password.
    const cut = (s: string): string => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);
    if (this.credentials.ascii.check(cut(words[0]!), cut(words[1]!))) return { line: 'STORED', ok: true };
    this.counters.auth_errors++;
    return { line: 'CLIENT_ERROR authentication failure', ok: false };
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
      case 'arith': reply(out, req.noreply, this.arith(req.key, req.incr, req.delta, out)); return 'continue';
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
      case 'meta': this.meta.execute(req.cmd, req.m, out); return 'continue';
      case 'me': this.meta.me(req.key, out); return 'continue';
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
      case 'mset':
      case 'swallow':
        throw new Error('requests with a data block go through the connection\'s data states');
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
    if (req.op === 'set') this.writes.removeStale(req.key);
    return 'SERVER_ERROR object too large for cache';
  }

  /** ms before its data block: memcached's item_alloc failing (too large) unlinks the old value whatever the mode. */
  admitMetaSet(req: MetaSetRequest): string | null {
    return this.meta.admitSet(req);
  }

  /** ms once its data block has arrived. */
  completeMetaSet(req: MetaSetRequest, data: Buffer, out: ReplyWriter): void {
    this.meta.completeSet(req, data, out);
  }

  /** Executes a storage command once its data block (value + 2 bytes) has arrived. */
  completeStore(req: StoreRequest, data: Buffer, out: ReplyWriter): void {
    this.counters.cmd_set++;
    if (data[data.length - 2] !== 13 || data[data.length - 1] !== 10) {
      reply(out, req.noreply, 'CLIENT_ERROR bad data chunk');
      return;
    }
    reply(out, req.noreply, this.store(req, data));
  }

  private store(req: StoreRequest, data: Buffer): string {
    const now = nowSeconds();
    const { status } = this.writes.store(req.op, {
      key: req.key, flags: req.flags, exptime: absoluteExpiry(req.exptime, now), data, cas: req.cas,
      staleOnOlder: false, vivifyExptime: null, newCas: 0n, keyBinary: false,
    }, now);
    return status === 'NO_MEMORY' ? 'SERVER_ERROR out of memory storing object' : status;
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
        this.writes.touch(item, newExptime);
      }
      item.visited = true;
      item.fetched = true;
      item.atime = now;
      const cas = withCas ? ` ${!casEnabled ? 0 : item.explicitCas === 0n ? item.version : item.explicitCas}` : '';
      out.text(`VALUE ${key} ${item.flags} ${item.valueLength}${cas}\r\n`);
      out.bytes(item.data);
    }
    out.line('END');
  }

  private arith(key: string, incr: boolean, delta: bigint, out: ReplyWriter): string {
    const r = this.writes.addDelta(key, incr, delta, 0n, 0n, nowSeconds(), (item) => out.holds(item));
    switch (r.status) {
      case 'OK':
        this.host.log?.set(r.item);
        return r.digits;
      case 'NOT_FOUND':
        if (incr) this.counters.incr_misses++;
        else this.counters.decr_misses++;
        return 'NOT_FOUND';
      case 'NON_NUMERIC': return 'CLIENT_ERROR cannot increment or decrement non-numeric value';
      case 'NO_MEMORY': return 'SERVER_ERROR out of memory';
      case 'EXISTS': throw new Error('incr and decr compare no CAS');
    }
  }

  private delete(key: string): string {
    const { store } = this.host;
    if (store.get(key, nowSeconds())) {
      this.writes.removeStale(key);
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
    this.writes.touch(item, absoluteExpiry(exptime, now));
    // memcached's touch fetches the item with an LRU bump, as get does.
    item.visited = true;
    item.fetched = true;
    item.atime = now;
    return 'TOUCHED';
  }

  private flushAll(delay: number | null): string {
    if (!this.host.settings.flushEnabled) return 'CLIENT_ERROR flush_all not allowed';
    if (delay === null) return 'CLIENT_ERROR invalid exptime argument';
    this.counters.cmd_flush++;
    const { store, log, clock } = this.host;
    const now = nowSeconds();
    // memcached: items last stored at or before (due - 1) vanish once that second has come.
    // A due time at or before process_started is rel time 1, so oldest_live is 0: nothing is
    // flushed, and an earlier delayed flush is cancelled.
    const due = delay > 0 ? absoluteExpiry(delay, now) : 0;
    const oldestLive = due === 0 || due === longAgo() ? 0 : due - 1;
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

  private resetStats(): void {
    Object.assign(this.counters, newCommandCounters());
    this.host.sources.resetConnectionCounters();
  }

  private stats(args: string[], out: ReplyWriter): void {
    const sub = args[0];
    if (sub === 'reset') {
      this.resetStats();
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
    const lines = this.statGroup(sub ?? '');
    if (lines === null) {
      out.line('ERROR');
      return;
    }
    for (const [name, value] of lines) out.text(`STAT ${name} ${value}\r\n`);
    out.line('END');
  }

  /** A `stats` group's lines (the text and binary `stats` commands, and the metrics endpoint); null if unknown. */
  statGroup(group: string): StatLine[] | null {
    return renderStats(group, this.host.settings, this.host.store, this.counters, this.host.sources);
  }
}

function reply(out: ReplyWriter, noreply: boolean, line: string): void {
  if (!noreply) out.line(line);
}
