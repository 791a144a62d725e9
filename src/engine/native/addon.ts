import { join } from 'node:path';
import type { ReplicaPort } from '../replica';

/** The C++ addon's surface (native/src/addon.cc). */
export interface NativeAddon {
  NativeEngine: new (settings: NativeSettings, onEvent: (type: NativeEvent, graceful: boolean) => void) => NativeHandle;
  /** Sends the addon's log lines to this file descriptor (--log-file) instead of stderr. */
  setLogFd(fd: number): void;
  /** The proxy's request framer (native/src/proxy_frame.cc): fills `out`, returns the count. */
  frameRequests(buf: Buffer, start: number, maxValue: number, out: Int32Array): number;
  /** The proxy's C++ data path (native/src/proxy_core.cc). */
  ProxyCore: new (settings: ProxyCoreSettings, onEvent: (type: number, a: number, b: number, detail: [string, number] | Buffer) => void) => ProxyCoreHandle;
  /** The proxy's C++ data path, for its tests (native/src/proxy_hooks.cc). */
  proxyTest: {
    /** The length of the whole reply of `shape` (0 line, 1 values, 2 stats) at the start of `buf`; 0: incomplete; -1: not that reply. */
    frameReply(buf: Buffer, shape: number, maxValue: number): number;
    /** One backend connection to 127.0.0.1:port: every request sent, then done(replies, failure, waiting). */
    roundTrip(port: number, requests: Buffer, lengths: Int32Array, shapes: Int32Array, maxValue: number, done: (replies: Buffer[], failure: string | null, waiting: number) => void): void;
  };
  /** Whole workloads in C++ per call, for the micro-benchmarks (bench/micro.ts). */
  bench: {
    parseLines(buf: Buffer): number;
    storeOps(ops: number, keys: number, valueSize: number): number;
    /** The benchmarks' load generator on a worker thread: one connection per pool of prebuilt batches. */
    runLoad(port: number, depth: number, durationMs: number, pools: Buffer[][]): Promise<{ ops: number; seconds: number; p50us: number; p99us: number; clientCpu: number }>;
  };
}

export interface ProxyCoreSettings {
  maxValue: number;
  maxClients: number;
  connectionsPerNode: number;
  /** Numeric addresses, in the proxy's node order. */
  nodes: { host: string; port: number }[];
  /** The ketama continuum's point values, ascending. */
  points: Uint32Array;
}

export interface ProxyCoreHandle {
  /** Binds `host` (numeric) and listens; throws an Error with a libuv `code`. */
  listen(host: string, port: number): { host: string; port: number };
  /** Per point: up to 4 candidate node indexes (-1 pads) in the order to try them; its home node; per node: up. */
  setRoutes(candidates: Int16Array, home: Int16Array, up: Uint8Array): void;
  checkTimeouts(timeoutMs: number): void;
  /** Clients on the TypeScript path (they count against -n too). */
  setOtherClients(n: number): void;
  /** Counters (see src/proxy/native-core.ts for the layout). */
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
}

export interface NativeSettings {
  listen: string;
  port: number;
  maxBytes: number;
  maxConnections: number;
  threads: number;
  itemSizeMax: number;
  verbosity: number;
  evictions: boolean;
  casEnabled: boolean;
  shutdownEnabled: boolean;
  flushEnabled: boolean;
  version: string;
  replicated: boolean;
  syncMode: boolean;
  nodeId: number;
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
