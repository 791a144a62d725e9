import { join } from 'node:path';
import type { Credential, CredentialKind } from '../../config/password-file';
import type { BindingProtocol } from '../../config/settings';
import type { ReplicaPort } from '../replica';

/**
 * The C++ addon's surface (native/src/addon.cc and the bindings in native/src/bindings/). Test
 * and benchmark entry points are in the separate dev addon (test/helpers/dev-addon.ts).
 */
export interface NativeAddon {
  NativeEngine: new (settings: NativeSettings, onEvent: (type: NativeEvent, graceful: boolean) => void) => NativeHandle;
  /** Sends the addon's log lines to this file descriptor (--log-file) instead of stderr. */
  setLogFd(fd: number): void;
  /** The proxy's C++ data path (native/src/proxy/proxy_core.h). */
  ProxyCore: ProxyCoreClass;
}

/** memcached's line bounds (src/protocol/line-limits.ts), as the addon takes them. */
export interface LineLimits {
  maxCommandLine: number;
  maxCompleteLine: number;
  maxGetLine: number;
}

export interface ProxyCoreClass {
  new (settings: ProxyCoreSettings, onEvent: (type: number, a: number, b: number, detail: [string, number] | Buffer, binary: boolean) => void): ProxyCoreHandle;
  /** The names of stats()' proxy-wide counters, in their order. */
  readonly counterNames: readonly string[];
  /** Per node in stats(), after the proxy-wide counters: where each counter is, and how many there are. */
  readonly nodeCounters: { requests: number; failovers: number; latencySumUs: number; latency: number; latencyBuckets: number; size: number };
  /** The event types of onEvent. */
  readonly events: { failure: number; handoff: number };
}

export interface ProxyCoreSettings {
  maxValue: number;
  maxClients: number;
  connectionsPerNode: number;
  /** The bounds the C++ path shares with the TypeScript path, declared in TypeScript. */
  limits: LineLimits & { maxInFlight: number; outputHighWater: number; backendMaxUnsent: number; maxTries: number; candidates: number };
  /** Numeric addresses, in the proxy's node order; host null for a name that does not resolve yet. */
  nodes: { host: string | null; port: number }[];
  /** The ketama continuum's point values, ascending. */
  points: Uint32Array;
}

export interface ProxyCoreHandle {
  /** Binds `host` (numeric) and listens; throws an Error with a libuv `code`. */
  listen(host: string, port: number): { host: string; port: number };
  /** Listens on a unix socket instead (-f); throws an Error with a libuv `code`. */
  listenUnix(path: string): { path: string };
  /** The numeric address of node `node`, whose name did not resolve before. */
  setAddress(node: number, address: { host: string; port: number }): void;
  /**
   * Per point: up to 4 candidate node indexes (-1 pads) in the order to try them; its home node;
   * per node: up. With `points`, the ring too (a reload): the candidates and homes are per point of it.
   */
  setRoutes(candidates: Int16Array, home: Int16Array, up: Uint8Array, points?: Uint32Array): void;
  /** A server a reload added (host null: not resolved yet); its index. */
  addNode(address: { host: string | null; port: number }): number;
  checkTimeouts(timeoutMs: number): void;
  /** Clients on the TypeScript path (they count against -n too). */
  setOtherClients(n: number): void;
  /** Counters: ProxyCore.counterNames, then per node ProxyCore.nodeCounters.size values. */
  stats(): Float64Array;
  resetStats(): void;
  /** Closes the listener, every client and backend connection. */
  stop(): void;
}

export type NativeEvent = 'shutdown' | 'stopped' | 'records';

/** The replication boundary (src/engine/replica.ts) too; a 'records' event says pending() has some. */
export interface NativeHandle extends Omit<ReplicaPort, 'onRecords'> {
  /** Binds `host` (numeric) and listens; throws an Error with a libuv `code` (EADDRINUSE...). */
  start(host: string): { host: string; port: number };
  /** Stops accepting, lets composed replies go out, closes every connection; 'stopped' follows. */
  stop(): void;
  /** The users -S (sasl) or -Y (ascii) accept, replacing the previous list; strings are latin1 bytes. */
  setCredentials(kind: CredentialKind, users: readonly Credential[]): void;
  /** A `stats` group's [name, value] pairs, taken under the store lock; null for an unknown group. */
  stats(group: string): [string, string][] | null;
}

export interface NativeSettings {
  listen: string;
  port: number;
  maxBytes: number;
  maxConnections: number;
  threads: number;
  reqsPerEvent: number;
  itemSizeMax: number;
  verbosity: number;
  evictions: boolean;
  casEnabled: boolean;
  shutdownEnabled: boolean;
  flushEnabled: boolean;
  /** -B; -S and -Y (their users arrive with setCredentials). */
  protocol: BindingProtocol;
  sasl: boolean;
  asciiAuth: boolean;
  /** -Y's file (empty without -Y), for `stats settings`. */
  authFile: string;
  version: string;
  replicated: boolean;
  syncMode: boolean;
  nodeId: number;
  /** The bounds both engines apply, declared in TypeScript. */
  limits: LineLimits & { outputHighWater: number; outputFlushAt: number; tombstoneTtlMs: number; tombstoneMax: number };
}

export type AddonLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

let cached: AddonLoad | null = null;

/** Where node-gyp-build looks for build/ and prebuilds/: the package, unless MEMCACHE_HA_NATIVE_ADDON_DIR says otherwise. */
export const ADDON_DIR_ENV = 'MEMCACHE_HA_NATIVE_ADDON_DIR';

/** The package directory node-gyp-build searches (build/, prebuilds/), or MEMCACHE_HA_NATIVE_ADDON_DIR. */
export function addonDir(): string {
  return process.env[ADDON_DIR_ENV] ?? join(__dirname, '..', '..', '..', '..');
}

/** Loads the addon once (prebuilt or built from source, via node-gyp-build); says why not. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    cached = { ok: true, addon: load(addonDir()) };
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0]!;
    cached = { ok: false, reason: first };
  }
  return cached;
}
