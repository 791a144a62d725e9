import type { Credential, CredentialKind } from '../../config/password-file';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { Settings } from '../../config/settings';
import { SERVER_VERSION } from '../../version';
import type { BoundAddress, Engine, EngineHooks } from '../engine';
import { newNodeId } from '../node-id';
import type { ReplicaPort } from '../replica';
import { OUTPUT_HIGH_WATER } from '../../net-limits';
import { MAX_COMMAND_LINE, MAX_COMPLETE_LINE, MAX_GET_LINE } from '../../protocol/line-limits';
import { OUTPUT_FLUSH_AT, TOMBSTONE_MAX, TOMBSTONE_TTL_MS } from '../limits';
import type { NativeAddon, NativeHandle } from './addon';

/**
 * The native engine: the C++ addon owns the store, the listener and every connection as libuv
 * handles on Node's own loop. JavaScript sees start, stop, the rare `shutdown` command and,
 * with replication, batches of records (at most one notification per loop turn).
 */
export class NativeEngine implements Engine {
  readonly name = 'native' as const;
  readonly nodeId = newNodeId();
  readonly replica: ReplicaPort | null = null;
  private readonly handle: NativeHandle;
  private started = false;
  private stopped: (() => void) | null = null;
  private onRecords: (() => void) | null = null;

  constructor(addon: NativeAddon, private readonly settings: Settings, hooks: EngineHooks) {
    const s = settings;
    hooks.log.file?.follow((fd) => addon.setLogFd(fd));
    this.handle = new addon.NativeEngine(
      {
        listen: s.listen, port: s.port, maxBytes: s.maxBytes, maxConnections: s.maxConnections, threads: s.threads,
        reqsPerEvent: s.reqsPerEvent,
        itemSizeMax: s.itemSizeMax, verbosity: s.verbosity, evictions: s.evictions, casEnabled: s.casEnabled,
        shutdownEnabled: s.shutdownEnabled, flushEnabled: s.flushEnabled, protocol: s.protocol, sasl: s.sasl,
        asciiAuth: s.asciiAuth, authFile: s.authFile ?? '', version: SERVER_VERSION,
        replicated: s.replication !== null, syncMode: s.replication?.mode === 'sync', nodeId: this.nodeId,
        limits: {
          maxCommandLine: MAX_COMMAND_LINE, maxCompleteLine: MAX_COMPLETE_LINE, maxGetLine: MAX_GET_LINE,
          outputHighWater: OUTPUT_HIGH_WATER, outputFlushAt: OUTPUT_FLUSH_AT,
          tombstoneTtlMs: TOMBSTONE_TTL_MS, tombstoneMax: TOMBSTONE_MAX,
        },
      },
      (type, graceful) => {
        if (type === 'records') this.onRecords?.();
        else if (type === 'shutdown') hooks.requestShutdown(graceful);
        else this.stopped?.();
      },
    );
    if (s.replication) {
      const h = this.handle;
      this.replica = {
        onRecords: (listener) => {
          this.onRecords = listener;
        },
        pending: () => h.pending(),
        drainInto: (target, at) => h.drainInto(target, at),
        apply: (records) => h.apply(records),
        snapshotBegin: () => h.snapshotBegin(),
        snapshotNext: (maxBytes) => h.snapshotNext(maxBytes),
        setStats: (text) => h.setStats(text),
        setAcknowledged: (acked) => h.setAcknowledged(acked),
      };
    }
  }

  async start(): Promise<BoundAddress> {
    // libuv binds numeric addresses only: resolve a host name the way net.Server would.
    const s = this.settings;
    const listen = net.isIP(s.listen) ? s.listen : (await lookup(s.listen)).address;
    this.started = true;
    return this.handle.start(listen);
  }

  setCredentials(kind: CredentialKind, users: readonly Credential[]): void {
    this.handle.setCredentials(kind, users);
  }

  stats(group: string): [string, string][] | null {
    return this.handle.stats(group);
  }

  stop(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.started = false;
    return new Promise((resolve) => {
      this.stopped = resolve;
      this.handle.stop();
    });
  }
}
