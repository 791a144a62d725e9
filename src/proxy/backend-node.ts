import type { Logger } from '../log';
import type { Batcher } from './batcher';
import { BackendConnection, type FailReason, type Login, type Pending } from './backend-connection';
import type { BackendCredentials } from '../config/proxy-settings';
import { LatencyHistogram } from './latency';
import { ReplyShape } from './reply-reader';

export interface NodeAddress {
  host: string;
  port: number;
  weight: number;
}

export interface HealthSettings {
  /** Consecutive failures (errors, timeouts, failed probes) that take a node out. */
  failureLimit: number;
  timeoutMs: number;
  connectionsPerNode: number;
  maxValue: number;
  /** How long a node that does not replicate counts as refilling after it was lost. */
  warmupMs: number;
  /** --backend-auth: every connection logs in first. */
  credentials: BackendCredentials | null;
}

/** What the last probe learnt from `stats replication`. */
export interface ReplicationReport {
  /** false: the node does not replicate (plain memcached, or a node without -x). */
  replicates: boolean;
  nodeId: number;
  peerNodeId: number;
  state: string;
}

export type NodeState = 'up' | 'out';

/** Per-node counters for `stats proxy`. */
export class NodeCounters {
  requests = 0;
  errors = 0;
  timeouts = 0;
  failovers = 0;
  probes = 0;
  probeFailures = 0;
  outages = 0;
}

/**
 * One backend node: its connection pool, its health (consecutive failures take it out; only
 * a probe that finds it answering and in sync brings it back) and what it says about its
 * replication peer.
 */
export class BackendNode {
  state: NodeState = 'up';
  /** A probe is on its way. */
  probing = false;
  failures = 0;
  report: ReplicationReport | null = null;
  /** Its replication peer among the proxy's nodes, once both reported each other's ids. */
  peer: BackendNode | null = null;
  readonly counters = new NodeCounters();
  /** Replies the C++ data path had from this node when it last reported a failure. */
  nativeReplies = 0;
  /** Its name did not resolve when last looked up (the C++ data path routes by numeric address). */
  unresolved = false;
  /** A look-up of its name is on its way. */
  resolving = false;
  /** Runs when the node goes out or comes back. */
  onStateChange: (() => void) | null = null;
  readonly latency = new LatencyHistogram();
  /** Whether it took requests before (false for a server a reload added, until its first probe). */
  private served = true;
  /** A node without replication that was lost counts as not in sync until then (performance.now()). */
  private coldUntil = 0;
  private readonly pool: (BackendConnection | null)[];
  /** Connections that speak the binary protocol (memcached picks a protocol per connection), opened at the first binary request. */
  private readonly binaryPool: (BackendConnection | null)[];
  private readonly onConnection = {
    onReply: (ms: number) => {
      this.failures = 0;
      this.latency.add(ms);
    },
    onFailure: (reason: FailReason, message: string) => this.failure(reason, message),
  };

  constructor(
    /** Its weight may change on a reload; its host and port (its identity, `name`) never do. */
    public address: NodeAddress,
    readonly name: string,
    private settings: HealthSettings,
    private readonly log: Logger,
    private readonly batcher: Batcher,
  ) {
    this.pool = new Array<BackendConnection | null>(settings.connectionsPerNode).fill(null);
    this.binaryPool = new Array<BackendConnection | null>(settings.connectionsPerNode).fill(null);
  }

  /**
   * A reload's new health settings (failure limit, timeout, warm-up); the pool keeps the size
   * it was made with, as the C++ data path's lanes do.
   */
  configure(settings: HealthSettings): void {
    this.settings = { ...settings, connectionsPerNode: this.settings.connectionsPerNode };
  }

  /** A server a reload added: it takes requests once a probe finds it answering (and in sync), not before. */
  awaitFirstProbe(): void {
    this.state = 'out';
    this.served = false;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  /** Sends on the pool connection for `lane` (one client keeps one lane, so its requests stay in order). */
  send(lane: number, bytes: Buffer, p: Pending): boolean {
    return this.sendOn(this.pool, lane, bytes, p);
  }

  /** Sends a binary request packet, on the binary connection for `lane`. */
  sendBinary(lane: number, bytes: Buffer, p: Pending): boolean {
    return this.sendOn(this.binaryPool, lane, bytes, p);
  }

  private sendOn(pool: (BackendConnection | null)[], lane: number, bytes: Buffer, p: Pending): boolean {
    const i = lane % pool.length;
    let conn = pool[i];
    if (!conn || conn.isClosed) {
      conn = this.connect(pool === this.binaryPool);
      pool[i] = conn;
    }
    this.counters.requests++;
    return conn.send(bytes, p);
  }

  /** A new connection whose replies and failures count for this node's health; `binary`: it speaks the binary protocol. */
  connect(binary = false): BackendConnection {
    const c = this.settings.credentials;
    const login = c === null ? null : binary ? saslLogin(c) : asciiLogin(c);
    return new BackendConnection(this.address.host, this.address.port, this.settings.maxValue, this.onConnection, this.batcher, login);
  }

  checkTimeouts(now: number): void {
    for (const c of this.pool) c?.checkTimeout(now, this.settings.timeoutMs);
    for (const c of this.binaryPool) c?.checkTimeout(now, this.settings.timeoutMs);
  }

  /**
   * Whether the node may lack keys it should hold: resyncing from its peer, or (without
   * replication) recently lost, so possibly restarted empty. Misses from it are asked of the
   * backup pool.
   */
  isCold(): boolean {
    const r = this.report;
    if (r !== null && r.replicates) return r.state === 'full_sync' || r.state === 'partial_sync' || r.state === 'handshake';
    return performance.now() < this.coldUntil;
  }

  failure(reason: FailReason, message: string): void {
    if (reason === 'connection') this.coldUntil = performance.now() + this.settings.warmupMs;
    if (reason === 'timeout') this.counters.timeouts++;
    else this.counters.errors++;
    this.failures++;
    if (this.state === 'up' && this.failures >= this.settings.failureLimit) {
      this.state = 'out';
      this.counters.outages++;
      this.log.warn(`proxy: backend ${this.name} is out after ${this.failures} failures (last: ${message})`);
      this.closeConnections();
      this.onStateChange?.();
    } else if (this.state === 'up') {
      this.log.info(`proxy: backend ${this.name}: ${message}`);
    } else {
      this.log.debug(`proxy: backend ${this.name} (out): ${message}`);
    }
  }

  /** A probe found the node answering and fit to serve. */
  revive(why: string): void {
    this.failures = 0;
    if (this.state === 'up') return;
    this.state = 'up';
    this.log.warn(`proxy: backend ${this.name} ${this.served ? 'is back' : 'takes requests'} (${why})`);
    this.served = true;
    this.onStateChange?.();
  }

  close(): void {
    this.closeConnections();
  }

  private closeConnections(): void {
    for (const c of this.pool) c?.close();
    for (const c of this.binaryPool) c?.close();
  }

  resetCounters(): void {
    Object.assign(this.counters, new NodeCounters());
    this.latency.reset();
  }
}

/** SASL PLAIN over the binary protocol: SASL_AUTH "PLAIN" with NUL user NUL password; success is status 0. */
function saslLogin(c: BackendCredentials): Login {
  const mech = Buffer.from('PLAIN');
  const data = Buffer.from(`\0${c.user}\0${c.password}`, 'latin1');
  const p = Buffer.alloc(24 + mech.length + data.length);
  p[0] = 0x80;
  p[1] = 0x21;
  p.writeUInt16BE(mech.length, 2);
  p.writeUInt32BE(mech.length + data.length, 8);
  mech.copy(p, 24);
  data.copy(p, 24 + mech.length);
  return { bytes: p, shape: ReplyShape.Binary, accepted: (r) => r.readUInt16BE(6) === 0 };
}

/** memcached's -Y login: a first `set` (any key) whose data is "user password", answered STORED. */
function asciiLogin(c: BackendCredentials): Login {
  const data = `${c.user} ${c.password}`;
  return {
    bytes: Buffer.from(`set auth 0 0 ${Buffer.byteLength(data, 'latin1')}\r\n${data}\r\n`, 'latin1'),
    shape: ReplyShape.Line,
    accepted: (r) => r.equals(STORED),
  };
}

const STORED = Buffer.from('STORED\r\n');

/** The probe request and the shape of its reply. */
export const PROBE_REQUEST = Buffer.from('stats replication\r\n');
export const PROBE_SHAPE = ReplyShape.Stats;

/** Reads a `stats replication` reply (or memcached's ERROR for a node that does not replicate). */
export function parseReplicationReport(reply: Buffer): ReplicationReport {
  const text = reply.toString('latin1');
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (!line.startsWith('STAT ')) continue;
    const sp = line.indexOf(' ', 5);
    if (sp > 0) fields.set(line.slice(5, sp), line.slice(sp + 1));
  }
  const peer = fields.get('peer');
  return {
    replicates: fields.size > 0 && peer !== undefined && peer !== 'none',
    nodeId: Number(fields.get('node_id') ?? 0),
    peerNodeId: Number(fields.get('peer_node_id') ?? 0),
    state: fields.get('state') ?? 'none',
  };
}
