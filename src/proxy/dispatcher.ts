import type { FailReason, Pending } from './backend-connection';
import type { BackendNode } from './backend-node';
import type { BackupPool } from './backup';
import { Ketama } from './ketama';
import { ReplyShape } from './reply-reader';
import type { Router } from './router';
import { mergeGetReplies } from './merge';
import { SERVER_ERROR_BUSY, SERVER_ERROR_LOST, SERVER_ERROR_TIMEOUT, SERVER_ERROR_UNAVAILABLE } from './slot';
import { MAX_TRIES } from './limits';
import { parseStatLines, type NodeStats } from './cluster-stats';

/** Proxy-wide counters for `stats proxy`. */
export class ProxyCounters {
  requests = 0;
  forwarded = 0;
  serverErrors = 0;
  failovers = 0;
  retries = 0;
  backupWrites = 0;
  backupReads = 0;
  cmdGet = 0;
  cmdSet = 0;
  cmdTouch = 0;
  cmdFlush = 0;
  /** Client connections the C++ data path handed to the TypeScript path. */
  handoffs = 0;
}

function failureReply(reason: FailReason): Buffer {
  return reason === 'timeout' ? SERVER_ERROR_TIMEOUT : reason === 'overload' ? SERVER_ERROR_BUSY : SERVER_ERROR_LOST;
}

/** What takes a reply: a client's slot, or one part of a split get. */
export interface ReplyTarget {
  complete(out: Buffer | Buffer[] | null): void;
}

/** Given the main node's reply to a write, the bytes to copy to the backup (or null: nothing). */
export type Mirror = (reply: Buffer) => Buffer | null;

/** A retrieval's command and keys, kept when a backup may have to answer for the main. */
export interface ReadPlan {
  prefix: string;
  keys: string[];
}

/**
 * Sends requests to the node their key routes to, and gives each reply to its target. Reads and
 * writes whose effect does not depend on being applied once (get, gets, gat, gats, set, delete,
 * touch) are retried on the next node when the one they went to fails before replying; the
 * others (add, replace, append, prepend, cas, incr, decr) get a SERVER_ERROR instead, since
 * the failed node may have applied them; meta commands follow the same rule (metaRetryable).
 */
export class Dispatcher {
  readonly counters = new ProxyCounters();

  constructor(private router: Router, readonly backups: BackupPool | null) {}

  /** A reload's routing: requests sent from now on (retries included) go by it; those in flight finish where they are. */
  setRouter(router: Router): void {
    this.router = router;
  }

  resetCounters(): void {
    Object.assign(this.counters, new ProxyCounters());
  }

  /**
   * A write (or any one-key request): `target` null for noreply (the reply is dropped);
   * `mirror` decides what the backup pool gets once the main node answered.
   */
  write(key: string, bytes: Buffer, target: ReplyTarget | null, retryable: boolean, lane: number, mirror: Mirror | null = null): void {
    const f = new Forward(this, Ketama.hash(key), bytes, ReplyShape.Line, target, retryable, lane);
    if (this.backups !== null) f.mirror = mirror;
    this.send(f);
  }

  /**
   * A meta command (see meta-framer.ts): routed by `key` (a base64 key decoded), its reply
   * framed as `shape` (Meta, or MetaFenced for a line sent with an `mn` after it).
   */
  meta(key: string, bytes: Buffer, shape: ReplyShape, target: ReplyTarget, retryable: boolean, lane: number, mirror: Mirror | null): void {
    const f = new Forward(this, key.length === 0 ? 0 : Ketama.hash(key), bytes, shape, target, retryable, lane);
    if (this.backups !== null) f.mirror = mirror;
    this.send(f);
  }

  /**
   * A binary request packet (see binary-framer.ts), routed by its key (latin1), sent on the
   * node's binary connection; its reply is one binary packet. A mirror's copy for the backup
   * is a binary packet too.
   */
  binary(key: string, bytes: Buffer, target: ReplyTarget, retryable: boolean, lane: number, mirror: Mirror | null): void {
    const f = new Forward(this, Ketama.hash(key), bytes, ReplyShape.Binary, target, retryable, lane);
    if (this.backups !== null) f.mirror = mirror;
    this.send(f);
  }

  /**
   * get/gets/gat/gats: one request when every key lives on one node (the client's bytes as
   * they came), else split per node, sent in parallel and merged back in key order.
   */
  get(prefix: string, keys: string[], raw: Buffer, target: ReplyTarget, lane: number): void {
    if (keys.length === 1) {
      this.send(this.read(Ketama.hash(keys[0]!), raw, target, lane, prefix, keys));
      return;
    }
    const hashes = keys.map((k) => Ketama.hash(k));
    const byNode = new Map<BackendNode | null, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const node = this.router.pick(this.router.pointOf(hashes[i]!), null);
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(i);
    }
    if (byNode.size === 1) {
      this.send(this.read(hashes[0]!, raw, target, lane, prefix, keys));
      return;
    }
    // Every part exists before any is sent: a part may complete at once (no node, a backup read).
    const split = new SplitGet(keys, target);
    const parts = [...byNode.values()].map((indexes) => ({ indexes, target: split.part(indexes) }));
    for (const { indexes, target: part } of parts) {
      const partKeys = indexes.map((i) => keys[i]!);
      const line = Buffer.from(`${prefix} ${partKeys.join(' ')}\r\n`, 'latin1');
      this.send(this.read(hashes[indexes[0]!]!, line, part, lane, prefix, partKeys));
    }
  }

  private read(hash: number, bytes: Buffer, target: ReplyTarget, lane: number, prefix: string, keys: string[]): Forward {
    const f = new Forward(this, hash, bytes, ReplyShape.Values, target, true, lane);
    if (this.backups !== null) f.readPlan = { prefix, keys };
    return f;
  }

  /**
   * flush_all: to every node that is up, backups included; OK once they did it. `binary`: the
   * bytes are a binary flush, sent on the binary connections, behind the client's earlier
   * binary requests.
   */
  flushAll(bytes: Buffer, target: ReplyTarget | null, lane: number, binary = false): void {
    const nodes = [...this.router.shards.flatMap((s) => s.nodes), ...(this.backups?.nodes ?? [])].filter((n) => n.isUp);
    const fan = new FanOut(target, nodes.length);
    for (const n of nodes) {
      const p: Pending = { shape: binary ? ReplyShape.Binary : ReplyShape.Line, sentAt: performance.now(), deliver: (r) => fan.reply(r), fail: () => fan.reply(null) };
      if (!(binary ? n.sendBinary(lane, bytes, p) : n.send(lane, bytes, p))) fan.reply(null);
    }
  }

  /**
   * A `stats` request to the serving node of every shard (`stats` through the proxy reads the
   * cluster); `done` gets each shard's STAT lines, null where no node answered with them
   * (`stats reset`, whose one-line reply says RESET, goes with `shape` Line).
   */
  statsAll(request: Buffer, lane: number, done: (replies: NodeStats[]) => void, shape = ReplyShape.Stats): void {
    const shards = this.router.shards;
    const replies: NodeStats[] = new Array<NodeStats>(shards.length).fill(null);
    let left = shards.length;
    const answered = (): void => {
      if (--left === 0) done(replies);
    };
    if (left === 0) return done(replies);
    shards.forEach((shard, i) => {
      const node = this.router.serving(shard);
      if (node === null) return answered();
      const p: Pending = {
        shape,
        sentAt: performance.now(),
        deliver: (r) => {
          replies[i] = parseStatLines(r);
          answered();
        },
        fail: () => answered(),
      };
      if (!node.send(lane, request, p)) answered();
    });
  }

  /** Sends (or re-sends) a request to the node its key routes to now. */
  send(f: Forward): void {
    const point = this.router.pointOf(f.hash);
    const node = this.router.pick(point, f.tried);
    if (node === null) {
      this.failed(f, SERVER_ERROR_UNAVAILABLE);
      return;
    }
    if (f.tried === null) {
      const home = this.router.home(point);
      if (node !== home) {
        this.counters.failovers++;
        home.counters.failovers++;
      }
    }
    f.node = node;
    f.sentAt = performance.now();
    this.counters.forwarded++;
    const sent = f.shape === ReplyShape.Binary ? node.sendBinary(f.lane, f.bytes, f) : node.send(f.lane, f.bytes, f);
    if (!sent) f.fail('overload');
  }

  retry(f: Forward, reason: FailReason): void {
    if (f.retryable && f.node !== null) {
      (f.tried ??= []).push(f.node);
      if (f.tried.length < MAX_TRIES) {
        this.counters.retries++;
        this.send(f);
        return;
      }
    }
    this.failed(f, failureReply(reason));
  }

  /** No main node could answer: a read asks the backups; anything else reports the error. */
  private failed(f: Forward, error: Buffer): void {
    if (f.readPlan !== null && this.backups !== null) {
      this.counters.backupReads++;
      this.backups.read(f.readPlan, null, error, f.lane, f.target!);
      return;
    }
    this.counters.serverErrors++;
    f.target?.complete(error);
  }

  /** The main node answered `reply`: copy a write to the backup, or complete a read from it. */
  answered(f: Forward, reply: Buffer): void {
    const backups = this.backups;
    if (backups !== null && f.mirror !== null) {
      const copy = f.mirror(reply);
      if (copy !== null) {
        this.counters.backupWrites++;
        backups.write(f.hash, copy, f.lane, f.shape === ReplyShape.Binary);
      }
    } else if (backups !== null && f.readPlan !== null && f.node !== null && (f.node.isCold() || !isGetReply(reply))) {
      this.counters.backupReads++;
      backups.read(f.readPlan, isGetReply(reply) ? reply : null, reply, f.lane, f.target!);
      return;
    }
    f.target?.complete(reply);
  }
}

/** Whether a reply is VALUE blocks and END (not an error line). */
function isGetReply(reply: Buffer): boolean {
  return reply[0] === 86 /* VALUE */ || (reply[0] === 69 && reply[1] === 78 && reply[2] === 68 /* END */);
}

/** A request for one node (one key, or the keys of a split get that live there). */
export class Forward implements Pending {
  sentAt = 0;
  node: BackendNode | null = null;
  tried: BackendNode[] | null = null;
  mirror: Mirror | null = null;
  readPlan: ReadPlan | null = null;

  constructor(
    private readonly dispatcher: Dispatcher,
    readonly hash: number,
    readonly bytes: Buffer,
    readonly shape: ReplyShape,
    readonly target: ReplyTarget | null,
    readonly retryable: boolean,
    readonly lane: number,
  ) {}

  deliver(reply: Buffer): void {
    if (this.mirror === null && this.readPlan === null) this.target?.complete(reply);
    else this.dispatcher.answered(this, reply);
  }

  fail(reason: FailReason): void {
    this.dispatcher.retry(this, reason);
  }
}

/** A multi-key get split in parts: the parts' replies are merged back in key order. */
export class SplitGet {
  private readonly replies: (Buffer | null)[] = [];
  private readonly partKeys: number[][] = [];
  private left = 0;

  constructor(private readonly keys: string[], private readonly target: ReplyTarget) {}

  part(indexes: number[]): ReplyTarget {
    const i = this.partKeys.length;
    this.partKeys.push(indexes);
    this.replies.push(null);
    this.left++;
    return {
      complete: (out) => {
        this.replies[i] = out as Buffer;
        if (--this.left === 0) this.target.complete(mergeGetReplies(this.keys, this.partKeys, this.replies));
      },
    };
  }
}

/** One request to many nodes (flush_all): answered once all have answered. */
class FanOut {
  private left: number;
  private ok = 0;
  private firstError: Buffer | null = null;

  constructor(private readonly target: ReplyTarget | null, nodes: number) {
    this.left = nodes;
    if (nodes === 0) target?.complete(SERVER_ERROR_UNAVAILABLE);
  }

  reply(r: Buffer | null): void {
    const binaryOk = r !== null && r.length >= 24 && r[0] === 0x81 && r.readUInt16BE(6) === 0;
    if (r !== null && ((r.length === 4 && r[0] === 79 && r[1] === 75) || binaryOk)) this.ok++;
    else if (this.firstError === null) this.firstError = r ?? SERVER_ERROR_UNAVAILABLE;
    if (--this.left > 0) return;
    // A node that failed mid-way is about to be out; the others (and its replica) did the flush.
    const ok = this.firstError === null || (this.firstError === SERVER_ERROR_UNAVAILABLE && this.ok > 0);
    this.target?.complete(ok ? OK : this.firstError);
  }
}

const OK = Buffer.from('OK\r\n');
