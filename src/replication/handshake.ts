import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const PROTOCOL_VERSION = 1;

/** What each side says first. `resume`: how much of the other's stream it already holds. */
export interface Hello {
  proto: number;
  nodeId: number;
  runId: string;
  nonce: string;
  resume: { runId: string; offset: number } | null;
  /** Sync mode: acknowledge every batch at once (otherwise acknowledgements may be coalesced). */
  prompt: boolean;
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Proof of the shared secret: an HMAC over the other side's fresh nonce and both node ids, so
 * a recorded answer is worth nothing on another link. No secret on both sides: an HMAC with an
 * empty key, which still tells a node with a secret from one without.
 */
export function proof(secret: string | null, theirNonce: string, fromNode: number, toNode: number): string {
  return createHmac('sha256', secret ?? '').update(`memcache-ha-native/${PROTOCOL_VERSION}:${theirNonce}:${fromNode}:${toNode}`).digest('hex');
}

export function proofMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/** A Hello from the network, checked field by field (it comes from an unauthenticated socket). */
export function parseHello(value: unknown): Hello | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!isCount(v.proto) || !isCount(v.nodeId) || typeof v.runId !== 'string' || typeof v.nonce !== 'string') return null;
  let resume: Hello['resume'] = null;
  if (v.resume !== null) {
    const r = v.resume as Record<string, unknown> | undefined;
    if (typeof r !== 'object' || typeof r.runId !== 'string' || !isCount(r.offset)) return null;
    resume = { runId: r.runId, offset: r.offset };
  }
  return { proto: v.proto, nodeId: v.nodeId, runId: v.runId, nonce: v.nonce, resume, prompt: v.prompt === true };
}
