import { randomInt } from 'node:crypto';

/** A node's origin id: random per process, non-zero, the tie-break of equal versions. */
export function newNodeId(): number {
  return randomInt(1, 2 ** 31);
}
