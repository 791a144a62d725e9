import type { Pending } from './backend-connection';
import type { BackendNode } from './backend-node';
import { SplitGet, type ReadPlan, type ReplyTarget } from './dispatcher';
import { Ketama } from './ketama';
import { getReplyKeys } from './merge';
import { ReplyShape } from './reply-reader';
import type { Router } from './router';

const END = Buffer.from('END\r\n');

/**
 * magent's backup pool (-b), with its bugs fixed: keys spread over the backups with ketama;
 * a write is copied to the backup only after the main node took it (and as what the main now
 * holds, so the backup never diverges: see the mirrors in client-commands.ts); a read asks the
 * backup when no main node could answer, or for the keys a main that is not in sync missed.
 */
export class BackupPool {
  constructor(private readonly router: Router, readonly nodes: readonly BackendNode[]) {}

  /**
   * Fire and forget: the backup's reply is read and dropped; its failures count for its health.
   * `binary`: the bytes are a binary request packet, sent on a binary connection.
   */
  write(hash: number, bytes: Buffer, lane: number, binary = false): void {
    const node = this.router.pick(this.router.pointOf(hash), null);
    if (node === null) return;
    const p: Pending = { shape: binary ? ReplyShape.Binary : ReplyShape.Line, sentAt: performance.now(), deliver: () => undefined, fail: () => undefined };
    if (binary) node.sendBinary(lane, bytes, p);
    else node.send(lane, bytes, p);
  }

  /**
   * Completes a retrieval from the backups: the keys `mainReply` lacks (all of them when the
   * main failed: null) are asked of the backup pool, and the answers merged in key order.
   * When the main failed and no backup answers either, the client gets the main's error.
   */
  read(plan: ReadPlan, mainReply: Buffer | null, mainError: Buffer, lane: number, target: ReplyTarget): void {
    const { keys, prefix } = plan;
    const found = mainReply === null ? new Set<string>() : getReplyKeys(mainReply);
    const fromMain: number[] = [];
    const byNode = new Map<BackendNode, number[]>();
    keys.forEach((k, i) => {
      if (found.has(k)) return void fromMain.push(i);
      const node = this.router.pick(this.router.pointOf(Ketama.hash(k)), null);
      if (node === null) return void fromMain.push(i);
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(i);
    });
    if (byNode.size === 0) {
      target.complete(mainReply ?? mainError);
      return;
    }
    let answered = 0;
    const finish: ReplyTarget = {
      complete: (out) => target.complete(mainReply === null && answered === 0 ? mainError : out),
    };
    const split = new SplitGet(keys, finish);
    const mainPart = split.part(fromMain);
    const parts = [...byNode].map(([node, indexes]) => ({ node, indexes, part: split.part(indexes) }));
    mainPart.complete(mainReply ?? END);
    for (const { node, indexes, part } of parts) {
      const line = Buffer.from(`${prefix} ${indexes.map((i) => keys[i]).join(' ')}\r\n`, 'latin1');
      const p: Pending = {
        shape: ReplyShape.Values,
        sentAt: performance.now(),
        deliver: (r) => {
          const ok = r[0] === 86 || r.equals(END);
          if (ok) answered++;
          part.complete(ok ? r : END);
        },
        fail: () => part.complete(END),
      };
      if (!node.send(lane, line, p)) part.complete(END);
    }
  }
}
