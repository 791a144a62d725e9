import type { Credential, CredentialKind } from '../../config/password-file';
import type { Settings } from '../../config/settings';
import { SERVER_VERSION } from '../../version';
import type { BoundAddress, Engine, EngineHooks } from '../engine';
import { newNodeId } from '../node-id';
import type { ReplicaPort } from '../replica';
import { RecordApplier } from './replica/apply';
import { MutationLog } from './replica/mutation-log';
import { SnapshotReader } from './replica/snapshot';
import { Commands, type CommandHost } from './commands/execute';
import type { ConnectionCounters } from './commands/counters';
import { markProcessStart, nowSeconds } from './store/clock';
import { Store } from './store/store';
import { VersionClock } from './store/version-clock';
import { Server } from './net/server';
import { SyncGate } from './net/sync-gate';

const SWEEP_INTERVAL_MS = 50;
/** Items the expiry sweep looks at per tick: well under a millisecond of work. */
const SWEEP_BUDGET = 2000;

/** The pure-TypeScript engine: net.Server, a TypeScript parser and a Map-based store. */
export class TsEngine implements Engine {
  readonly name = 'ts' as const;
  readonly nodeId = newNodeId();
  readonly replica: ReplicaPort | null = null;
  private readonly store: Store;
  private readonly server: Server;
  private readonly commands: Commands;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly settings: Settings, hooks: EngineHooks) {
    // memcached's stats_init: expiries already past are dated from here (store/clock.ts).
    markProcessStart();
    const replicated = settings.replication !== null;
    this.store = new Store(settings.maxBytes, settings.evictions, replicated);
    const clock = new VersionClock();
    const log = replicated ? new MutationLog(this.nodeId) : null;
    const counters: ConnectionCounters = {
      currConnections: 0, totalConnections: 0, rejectedConnections: 0, bytesRead: 0, bytesWritten: 0, connYields: 0,
    };
    const host: CommandHost = {
      settings,
      store: this.store,
      clock,
      nodeId: this.nodeId,
      log,
      replicationStats: replicated ? '' : null,
      sources: {
        version: SERVER_VERSION,
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
          counters.connYields = 0;
        },
      },
      shutdown: (graceful) => hooks.requestShutdown(graceful),
      setVerbosity: (level) => {
        settings.verbosity = level;
        hooks.log.verbosity = level;
      },
    };
    const commands = new Commands(host);
    this.commands = commands;
    const gate = log && settings.replication?.mode === 'sync' ? new SyncGate(() => log.end) : null;
    this.server = new Server(commands, counters, settings.maxConnections, hooks.log, gate);
    if (log) {
      const applier = new RecordApplier(this.store, clock, settings.itemSizeMax, settings.casEnabled);
      const snapshot = new SnapshotReader(this.store, clock, this.nodeId);
      this.replica = {
        onRecords: (listener) => log.onRecords(listener),
        pending: () => log.pending(),
        drainInto: (target, at) => log.drainInto(target, at),
        apply: (records) => applier.apply(records),
        snapshotBegin: () => snapshot.begin(),
        snapshotNext: (maxBytes) => snapshot.next(maxBytes),
        setStats: (text) => {
          host.replicationStats = text;
        },
        setAcknowledged: (acked) => this.server.setAcknowledged(acked),
      };
    }
  }

  async start(): Promise<BoundAddress> {
    const address = await this.server.listen(this.settings.listen, this.settings.port);
    this.sweepTimer = setInterval(() => {
      this.store.sweep(nowSeconds(), SWEEP_BUDGET);
      this.store.tombstones?.expire(Date.now(), SWEEP_BUDGET);
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    return { host: address.address, port: address.port };
  }

  setCredentials(kind: CredentialKind, users: readonly Credential[]): void {
    this.commands.credentials[kind].set(users);
  }

  stats(group: string): [string, string][] | null {
    return this.commands.statGroup(group)?.map(([name, value]) => [name, String(value)]) ?? null;
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.server.stop();
  }
}
