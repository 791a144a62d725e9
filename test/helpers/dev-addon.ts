import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The dev addon (native/dev/, built by `npm run build:dev` with GYP_DEFINES=dev=1): test and
 * benchmark entry points that the product addon, and so the package, does not carry.
 */
export interface DevAddon {
  /** The proxy's C++ data path, for its tests (native/dev/proxy_hooks.cc). */
  proxyTest: {
    /** The length of the whole reply of `shape` (0 line, 1 values, 2 stats) at the start of `buf`; 0: incomplete; -1: not that reply. */
    frameReply(buf: Buffer, shape: number, maxValue: number): number;
    /** One backend connection to 127.0.0.1:port: every request sent, then done(replies, failure, waiting). */
    roundTrip(port: number, requests: Buffer, lengths: Int32Array, shapes: Int32Array, maxValue: number, done: (replies: Buffer[], failure: string | null, waiting: number) => void): void;
  };
  /** Whole workloads in C++ per call, for the micro-benchmarks (bench/micro.ts), and the load generator. */
  bench: {
    parseLines(buf: Buffer): number;
    storeOps(ops: number, keys: number, valueSize: number): number;
    /** The benchmarks' load generator on a worker thread: one connection per pool of prebuilt batches. */
    runLoad(port: number, depth: number, durationMs: number, framing: 'text' | 'meta' | 'binary', pools: Buffer[][]): Promise<{ ops: number; seconds: number; p50us: number; p99us: number; clientCpu: number }>;
  };
}

/** Where the build puts it: named .addon so that the product addon's loaders never pick it up. */
export const DEV_ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'memcache_ha_dev.addon');

let cached: DevAddon | null | undefined;

/** The dev addon, or null when it was not built (the TypeScript-only case). */
export function loadDevAddon(): DevAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (existsSync(DEV_ADDON_PATH)) {
    const module = { exports: {} as DevAddon };
    process.dlopen(module, DEV_ADDON_PATH);
    cached = module.exports;
  }
  return cached;
}
