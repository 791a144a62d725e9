import type { FailReason, Pending } from './backend-connection';
import type { BackendNode } from './backend-node';
import { Ketama } from './ketama';
import { ReplyShape } from './reply-reader';
import type { Router } from './router';
import { mergeGetReplies } from './merge';
import { SERVER_ERROR_BUSY, SERVER_ERROR_LOST, SERVER_ERROR_TIMEOUT, SERVER_ERROR_UNAVAILABLE, type Slot } from './slot';

/** Proxy-wide counters for `stats`. */
export class ProxyCounters {
  requests = 0;
  forwarded = 0;
  clientErrors = 0;
  serverErrors = 0;
  failovers = 0;
  retries = 0;
  cmdGet = 0;
  cmdSet = 0;
  cmdTouch = 0;
  cmdFlush = 0;
}

function failureReply(reason: FailReason): Buffer {
  return reason === 'timeout' ? SERVER_ERROR_TIMEOUT : reason === 'overload' ? SERVER_ERROR_BUSY : SERVER_ERROR_LOST;
}

/**
 * Sends requests to the node their key routes to, and gives each reply to its slot. Reads and
 * writes whose effect does not depend on being applied once (get, gets, gat, gats, set, delete,
 * touch) are retried on the next node when the one they went to fails before replying; the
 * others (add, replace, append, prepend, cas, incr, decr) get a SERVER_ERROR instead, since
 * the failed node may have applied them.
 */
export class Dispatcher {
  readonly counters = new ProxyCounters();

  constructor(private readonly router: Router) {}

  resetCounters(): void {
    Object.assign(this.counters, new ProxyCounters());
  }

  /** One request for one key. `slot` is null for noreply requests: the reply is dropped. */
  forward(key: string, bytes: Buffer, shape: ReplyShape, slot: Slot | null, retryable: boolean, lane: number): void {
    const f = new Forward(this, Ketama.hash(key), bytes, shape, slot, retryable, lane);
    this.send(f);
  }

  /** A get/gets/gat/gats for several keys: split per node, sent in parallel, merged in order. */
  multiGet(prefix: string, keys: string[], raw: Buffer, slot: Slot, lane: number): void {
    const hashes = keys.map((k) => Ketama.hash(k));
    const byNode = new Map<BackendNode | null, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const node = this.router.pick(hashes[i]!, null);
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(i);
    }
    if (byNode.size === 1 && !byNode.has(null)) {
      this.send(new Forward(this, hashes[0]!, raw, ReplyShape.Values, slot, true, lane));
      return;
    }
    const split = new SplitGet(keys, slot, byNode.size);
    for (const [node, indexes] of byNode) {
      const part = split.part(indexes);
      if (node === null) {
        this.counters.serverErrors++;
        part.complete(SERVER_ERROR_UNAVAILABLE);
        continue;
      }
      const line = Buffer.from(`${prefix} ${indexes.map((i) => keys[i]).join(' ')}\r\n`, 'latin1');
      this.send(new Forward(this, hashes[indexes[0]!]!, line, ReplyShape.Values, part, true, lane));
    }
  }

  /** flush_all: to every node that is up; OK once each shard has a node that did it. */
  flushAll(bytes: Buffer, slot: Slot | null, lane: number): void {
    const nodes = this.router.shards.flatMap((s) => s.nodes).filter((n) => n.isUp);
    const fan = new FanOut(slot, nodes.length);
    for (const n of nodes) {
      const p: Pending = { shape: ReplyShape.Line, sentAt: performance.now(), deliver: (r) => fan.reply(r), fail: () => fan.reply(null) };
      if (!n.send(lane, bytes, p)) fan.reply(null);
    }
  }

  /** Sends (or re-sends) a request to the node its key routes to now. */
  send(f: Forward): void {
    const node = this.router.pick(f.hash, f.tried);
    if (node === null) {
      this.counters.serverErrors++;
      f.target?.complete(SERVER_ERROR_UNAVAILABLE);
      return;
    }
    if (f.tried === null && node !== this.router.homeOf(f.hash)) {
      this.counters.failovers++;
      this.router.homeOf(f.hash).counters.failovers++;
    }
    f.node = node;
    f.sentAt = performance.now();
    this.counters.forwarded++;
    if (!node.send(f.lane, f.bytes, f)) f.fail('overload');
  }

  retry(f: Forward, reason: FailReason): void {
    if (f.retryable && f.node !== null) {
      (f.tried ??= []).push(f.node);
      if (f.tried.length < 4) {
        this.counters.retries++;
        this.send(f);
        return;
      }
    }
    this.counters.serverErrors++;
    f.target?.complete(failureReply(reason));
  }
}

/** What takes a reply: a client's slot, or one part of a split get. */
export interface ReplyTarget {
  complete(out: Buffer | Buffer[] | null): void;
}

/** A request for one node (one key, or the keys of a split get that live there). */
export class Forward implements Pending {
  sentAt = 0;
  node: BackendNode | null = null;
  tried: BackendNode[] | null = null;

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
    this.target?.complete(reply);
  }

  fail(reason: FailReason): void {
    this.dispatcher.retry(this, reason);
  }
}

/** A multi-key get split over nodes: the parts' replies are merged back in key order. */
class SplitGet {
  private readonly replies: (Buffer | null)[] = [];
  private readonly partKeys: number[][] = [];
  private left: number;

  constructor(private readonly keys: string[], private readonly slot: Slot, parts: number) {
    this.left = parts;
  }

  part(indexes: number[]): ReplyTarget {
    const i = this.partKeys.length;
    this.partKeys.push(indexes);
    this.replies.push(null);
    return {
      complete: (out) => {
        this.replies[i] = out as Buffer;
        if (--this.left === 0) this.finish();
      },
    };
  }

  private finish(): void {
    this.slot.complete(mergeGetReplies(this.keys, this.partKeys, this.replies));
  }
}

/** One request to many nodes (flush_all): answered once all have answered. */
class FanOut {
  private left: number;
  private ok = 0;
  private firstError: Buffer | null = null;

  constructor(private readonly slot: Slot | null, nodes: number) {
    this.left = nodes;
    if (nodes === 0) slot?.complete(SERVER_ERROR_UNAVAILABLE);
  }

  reply(r: Buffer | null): void {
    if (r !== null && r.length === 4 && r[0] === 79 && r[1] === 75) this.ok++;
    else if (this.firstError === null) this.firstError = r ?? SERVER_ERROR_UNAVAILABLE;
    if (--this.left > 0) return;
    this.slot?.complete(this.firstError === null ? OK : this.ok > 0 && this.firstError === SERVER_ERROR_UNAVAILABLE ? OK : this.firstError);
  }
}

const OK = Buffer.from('OK\r\n');
