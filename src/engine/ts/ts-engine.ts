import { randomInt } from 'node:crypto';
import type { Settings } from '../../config/settings';
import { PACKAGE_VERSION } from '../../version';
import type { BoundAddress, Engine, EngineHooks } from '../engine';
import { Commands } from './commands/execute';
import type { ConnectionCounters } from './commands/counters';
import { nowSeconds } from './store/clock';
import { Store } from './store/store';
import { VersionClock } from './store/version-clock';
import { Server } from './net/server';

const SWEEP_INTERVAL_MS = 50;
/** Items the expiry sweep looks at per tick: well under a millisecond of work. */
const SWEEP_BUDGET = 2000;

/** The pure-TypeScript engine: net.Server, a TypeScript parser and a Map-based store. */
export class TsEngine implements Engine {
  readonly name = 'ts' as const;
  private readonly store: Store;
  private readonly server: Server;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly settings: Settings, hooks: EngineHooks) {
    this.store = new Store(settings.maxBytes, settings.evictions);
    const counters: ConnectionCounters = {
      currConnections: 0, totalConnections: 0, rejectedConnections: 0, bytesRead: 0, bytesWritten: 0,
    };
    const commands = new Commands({
      settings,
      store: this.store,
      clock: new VersionClock(),
      nodeId: randomInt(1, 2 ** 31),
      sources: {
        version: PACKAGE_VERSION,
        engine: this.name,
        startedAt: nowSeconds(),
        connections: counters,
        boundPort: () => this.server.port,
        openConnections: () => this.server.describeConnections(),
        resetConnectionCounters: () => {
          counters.totalConnections = 0;
          counters.rejectedConnections = 0;
          counters.bytesRead = 0;
          counters.bytesWritten = 0;
        },
      },
      shutdown: (graceful) => hooks.requestShutdown(graceful),
      setVerbosity: (level) => {
        settings.verbosity = level;
        hooks.log.verbosity = level;
      },
    });
    this.server = new Server(commands, counters, settings.maxConnections, hooks.log);
  }

  async start(): Promise<BoundAddress> {
    const address = await this.server.listen(this.settings.listen, this.settings.port);
    this.sweepTimer = setInterval(() => this.store.sweep(nowSeconds(), SWEEP_BUDGET), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    return { host: address.address, port: address.port };
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.server.stop();
  }
}
