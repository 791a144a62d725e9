import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log';
import { FrameError, type FrameReader, FrameType, frame, jsonFrame } from './frames';
import type { Link } from './link';

export const PROTOCOL_VERSION = 1;
/** Before authentication a peer may send only small frames. */
export const HANDSHAKE_MAX_FRAME = 64 * 1024;

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

function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Proof of the shared secret: an HMAC over the other side's fresh nonce and both node ids, so
 * a recorded answer is worth nothing on another link. No secret on both sides: an HMAC with an
 * empty key, which still tells a node with a secret from one without.
 */
function proof(secret: string | null, theirNonce: string, fromNode: number, toNode: number): string {
  return createHmac('sha256', secret ?? '').update(`memcache-ha-native/${PROTOCOL_VERSION}:${theirNonce}:${fromNode}:${toNode}`).digest('hex');
}

function proofMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/** A Hello from the network, checked field by field (it comes from an unauthenticated socket). */
function parseHello(value: unknown): Hello | null {
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

/** What the handshake needs from the replicator. */
export interface HandshakeHost {
  readonly nodeId: number;
  readonly runId: string;
  readonly secret: string | null;
  readonly log: Logger;
  /** This node runs in sync mode: its peer should acknowledge at once. */
  readonly promptAcks: boolean;
  /** The largest frame accepted from an authenticated peer (one drained batch or snapshot chunk). */
  readonly maxFrame: number;
  /** What this node holds of a peer run's stream (sent as `resume` in the Hello). */
  resumeFor(): Hello['resume'];
  /** Both sides proved the secret: null to go on, or why this link is refused. */
  established(link: Link): string | null;
  /** This side refused the peer's credentials. */
  refused(reason: string): void;
}

/**
 * One link's handshake: both sides send a Hello, then prove the secret over the other's nonce;
 * a side whose replicator accepts the peer sends a Welcome. The link starts when it has sent
 * its Welcome and received the peer's, so neither side sends records to a peer that refuses.
 */
export class Handshake {
  /** The peer's Hello, once it arrived. */
  peer: Hello | null = null;
  private readonly nonce = newNonce();
  private authenticated = false;
  private welcomed = false;

  /** `reader`: the link's frame reader, whose small pre-authentication bound is lifted here. */
  constructor(private readonly host: HandshakeHost, private readonly link: Link, private readonly reader: FrameReader) {}

  sendHello(): void {
    const host = this.host;
    const hello: Hello = {
      proto: PROTOCOL_VERSION, nodeId: host.nodeId, runId: host.runId, nonce: this.nonce, resume: host.resumeFor(), prompt: host.promptAcks,
    };
    this.link.send(jsonFrame(FrameType.Hello, hello));
  }

  /** A frame that came before the link started, other than an Error (the link handles those). */
  onFrame(type: FrameType, payload: Buffer): void {
    const { host, link } = this;
    if (type === FrameType.Hello && !this.peer) {
      const hello = parseHello(JSON.parse(payload.toString()));
      if (!hello) throw new FrameError('malformed hello');
      if (hello.proto !== PROTOCOL_VERSION) return link.refuse(`replication protocol ${hello.proto} is not supported (this node speaks ${PROTOCOL_VERSION})`);
      this.peer = hello;
      if (hello.nodeId === host.nodeId) return link.close('connected to itself');
      link.send(jsonFrame(FrameType.Auth, { mac: proof(host.secret, hello.nonce, host.nodeId, hello.nodeId) }));
      return;
    }
    if (type === FrameType.Auth && this.peer) {
      const { mac } = JSON.parse(payload.toString()) as { mac?: unknown };
      if (!proofMatches(proof(host.secret, this.nonce, this.peer.nodeId, host.nodeId), mac)) {
        const reason = 'authentication failed: the replication secrets differ';
        host.log.warn(`replication: ${link.describePeer()} failed authentication (a different or missing --repl-secret); refused`);
        host.refused(reason);
        return link.refuse(reason);
      }
      this.authenticated = true;
      this.reader.maxFrame = host.maxFrame;
      const refusal = host.established(link);
      if (refusal !== null) return link.refuse(refusal);
      link.send(frame(FrameType.Welcome));
      if (this.welcomed) link.start();
      return;
    }
    if (type === FrameType.Welcome && this.peer && !this.welcomed) {
      this.welcomed = true;
      // Both sides accepted the link: only now does either send records.
      if (this.authenticated) link.start();
      return;
    }
    throw new FrameError(`unexpected frame type ${type as number} during the handshake`);
  }
}
