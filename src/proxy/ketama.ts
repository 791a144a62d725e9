import { md5Words } from './md5';

/** One entry of the continuum as libmemcached names it: host as written, port, weight. */
export interface RingMember {
  host: string;
  port: number;
  weight: number;
}

const POINTS_PER_SERVER = 160;
const DEFAULT_PORT = 11211;

/**
 * libmemcached's weighted ketama (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED): each member gets
 * floor(weight share x 40 x members) x 4 points, computed in single precision as libmemcached
 * does; point labels are "host-i" on port 11211 and "host:port-i" otherwise, each label's MD5
 * giving four points. A key goes to the first point at or after the MD5 hash of the key,
 * wrapping to the first point.
 */
export class Ketama {
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;

  constructor(members: readonly RingMember[]) {
    if (members.length === 0 || members.length > 65535) throw new Error('ketama needs 1 to 65535 members');
    const total = members.reduce((s, m) => s + m.weight, 0);
    const points: { value: number; owner: number }[] = [];
    members.forEach((m, owner) => {
      const share = Math.fround(m.weight / total);
      const perHash = Math.fround(Math.fround(Math.fround(share * POINTS_PER_SERVER) / 4) * members.length);
      const count = Math.floor(Math.fround(perHash + 0.0000000001)) * 4;
      for (let i = 0; i < count / 4; i++) {
        const label = m.port === DEFAULT_PORT ? `${m.host}-${i}` : `${m.host}:${m.port}-${i}`;
        const words = md5Words(label);
        for (let x = 0; x < 4; x++) points.push({ value: words[x]!, owner });
      }
    });
    points.sort((a, b) => a.value - b.value);
    this.points = Uint32Array.from(points, (p) => p.value);
    this.owners = Uint16Array.from(points, (p) => p.owner);
  }

  /** The points' values, ascending (for the C++ data path's copy of the ring). */
  get values(): Uint32Array {
    return this.points;
  }

  /** How many points the continuum holds (for stats and tests). */
  get size(): number {
    return this.points.length;
  }

  /** libmemcached's key hash in ketama mode: the first MD5 word of the key. */
  static hash(key: string): number {
    return md5Words(key)[0]!;
  }

  /** The index of the point that `hash` lands on. */
  pointOf(hash: number): number {
    const v = this.points;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return hi === v.length ? 0 : hi;
  }

  /** The member owning point `i` (points wrap around). */
  ownerAt(i: number): number {
    return this.owners[i % this.owners.length]!;
  }

  /** The member a key hashes to. */
  memberOf(key: string): number {
    return this.owners[this.pointOf(Ketama.hash(key))]!;
  }
}
