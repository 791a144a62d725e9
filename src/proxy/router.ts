import type { BackendNode } from './backend-node';
import { Ketama, type RingMember } from './ketama';

/** How many nodes the C++ data path may try for one request (the dispatcher's retry bound). */
export const CANDIDATES = 4;

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

  /** `members`: the ring's members, one per shard (its first node's address and weight, unless given). */
  constructor(readonly shards: readonly Shard[], members: readonly RingMember[] = shards.map((s) => s.nodes[0]!.address)) {
    this.ring = new Ketama(members);
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
  /** The node serving a shard's keys now (its first up node, else an up replication peer); null if none. */
  serving(shard: Shard): BackendNode | null {
    for (const n of shard.nodes) if (n.isUp) return n;
    for (const n of shard.nodes) if (n.peer?.isUp) return n.peer;
    return null;
  }

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

  /**
   * The routing table of the C++ data path, for the nodes' states now: per ring point the
   * first `CANDIDATES` distinct nodes pick() would try, in its order (a request retried after
   * failures on the first ones takes the next), and the point's home node.
   */
  table(index: ReadonlyMap<BackendNode, number>): { values: Uint32Array; candidates: Int16Array; home: Int16Array } {
    const size = this.ring.size;
    const candidates = new Int16Array(size * CANDIDATES).fill(-1);
    const home = new Int16Array(size);
    const shardUp = this.shards.map((s) => s.nodes.some((n) => n.isUp));
    // nextUp[i]: the first point at or after i (wrapping) whose shard has a node up; -1: none.
    const nextUp = new Int32Array(size).fill(-1);
    let next = -1;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = size - 1; i >= 0; i--) {
        if (shardUp[this.ring.ownerAt(i)]) next = i;
        nextUp[i] = next;
      }
    }
    for (let point = 0; point < size; point++) {
      const shard = this.shards[this.ring.ownerAt(point)]!;
      home[point] = index.get(shard.nodes[0]!)!;
      const out: BackendNode[] = [];
      const add = (n: BackendNode | null): boolean => {
        if (n !== null && n.isUp && !out.includes(n)) out.push(n);
        return out.length >= CANDIDATES;
      };
      let full = shard.nodes.some((n) => add(n)) || shard.nodes.some((n) => add(n.peer));
      const seen = new Set<Shard>([shard]);
      // Then, as pick() walks the ring, the shards at the next points (only those with a node up).
      let travelled = 0;
      for (let i = nextUp[(point + 1) % size]!; !full && i >= 0 && seen.size < this.shards.length; i = nextUp[(i + 1) % size]!) {
        const distance = (i - point + size) % size;
        if (distance <= travelled) break; // back at the start
        travelled = distance;
        const s = this.shards[this.ring.ownerAt(i)]!;
        if (seen.has(s)) continue;
        seen.add(s);
        full = s.nodes.some((n) => add(n));
      }
      out.forEach((n, k) => (candidates[point * CANDIDATES + k] = index.get(n)!));
    }
    return { values: this.ring.values, candidates, home };
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
