import type { BackendNode } from './backend-node';
import { Ketama } from './ketama';

/** A shard: nodes that hold the same keys (a replica group), tried in order. */
export interface Shard {
  nodes: BackendNode[];
}

/**
 * Where a key goes: ketama over the shards (each named by its first node, so a client hashing
 * over the same -s list agrees), then the first node of the shard that is up, then the
 * replication peer a node reported, then, as twemproxy ejects, the shards at the next points
 * of the ring. null when no node can take the key.
 */
export class Router {
  private readonly ring: Ketama;

  constructor(readonly shards: readonly Shard[]) {
    this.ring = new Ketama(shards.map((s) => s.nodes[0]!.address));
  }

  /** The ring point a key hash lands on: where pick() and home() start. */
  pointOf(hash: number): number {
    return this.ring.pointOf(hash);
  }

  /** The first node of the shard owning `point`: where its keys go while it is up. */
  home(point: number): BackendNode {
    return this.shards[this.ring.ownerAt(point)]!.nodes[0]!;
  }

  /** The node a request for `point` goes to, skipping `tried` (nodes that already failed it). */
  pick(point: number, tried: readonly BackendNode[] | null): BackendNode | null {
    const home = this.shards[this.ring.ownerAt(point)]!;
    const first = home.nodes[0]!;
    if (first.isUp && tried === null) return first;
    for (const n of home.nodes) if (n.isUp && !tried?.includes(n)) return n;
    for (const n of home.nodes) {
      const p = n.peer;
      if (p && p.isUp && !tried?.includes(p)) return p;
    }
    for (let i = 1; i < this.ring.size; i++) {
      const shard = this.shards[this.ring.ownerAt(point + i)]!;
      if (shard === home) continue;
      for (const n of shard.nodes) if (n.isUp && !tried?.includes(n)) return n;
    }
    return null;
  }

  /** Whether some node of the shards `node` could stand in for is up (its group and its peer). */
  hasStandIn(node: BackendNode): boolean {
    for (const s of this.shards) {
      if (!s.nodes.includes(node)) continue;
      if (s.nodes.some((n) => n !== node && n.isUp)) return true;
    }
    return node.peer !== null && node.peer.isUp;
  }
}
