import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Settings } from '../../config/settings';
import { PACKAGE_VERSION } from '../../version';
import type { BoundAddress, Engine, EngineHooks } from '../engine';
import type { NativeAddon, NativeHandle } from './addon';

/**
 * The native engine: the C++ addon owns the listener and every connection as libuv handles
 * on Node's own loop. JavaScript sees start, stop and the rare `shutdown` command.
 */
export class NativeEngine implements Engine {
  readonly name = 'native' as const;
  private handle: NativeHandle | null = null;
  private stopped: (() => void) | null = null;

  constructor(private readonly addon: NativeAddon, private readonly settings: Settings, private readonly hooks: EngineHooks) {}

  async start(): Promise<BoundAddress> {
    const s = this.settings;
    // libuv binds numeric addresses only: resolve a host name the way net.Server would.
    const listen = net.isIP(s.listen) ? s.listen : (await lookup(s.listen)).address;
    this.handle = new this.addon.NativeEngine(
      {
        listen, port: s.port, maxBytes: s.maxBytes, maxConnections: s.maxConnections, threads: s.threads,
        itemSizeMax: s.itemSizeMax, verbosity: s.verbosity, evictions: s.evictions, casEnabled: s.casEnabled,
        shutdownEnabled: s.shutdownEnabled, flushEnabled: s.flushEnabled, version: PACKAGE_VERSION,
      },
      (type, graceful) => {
        if (type === 'shutdown') this.hooks.requestShutdown(graceful);
        else this.stopped?.();
      },
    );
    return this.handle.start();
  }

  stop(): Promise<void> {
    const handle = this.handle;
    if (!handle) return Promise.resolve();
    this.handle = null;
    return new Promise((resolve) => {
      this.stopped = resolve;
      handle.stop();
    });
  }
}
