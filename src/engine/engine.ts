import type { Credential, CredentialKind } from '../config/password-file';
import type { Logger } from '../log';
import type { ReplicaPort } from './replica';

export type EngineName = 'native' | 'ts';

export interface BoundAddress {
  host: string;
  port: number;
}

/** What a node needs from an engine: the data path behind one client listener. */
export interface Engine {
  readonly name: EngineName;
  /** The origin id stamped on this node's writes (random per process). */
  readonly nodeId: number;
  /** The replication boundary; null unless the node was started with -x or -X. */
  readonly replica: ReplicaPort | null;
  /** Opens the client listener (a replica may take records before, while it catches up). */
  start(): Promise<BoundAddress>;
  /** Stops accepting, lets the replies already composed go out, closes every connection. */
  stop(): Promise<void>;
  /**
   * The users -S (sasl) or -Y (ascii) authenticate, replacing the previous list: at start and
   * on every SIGHUP. Connections already authenticated stay so, as in memcached.
   */
  setCredentials(kind: CredentialKind, users: readonly Credential[]): void;
  /**
   * A `stats` group as its STAT lines' names and values (the metrics endpoint's source), read
   * while the node serves; null for a group memcached does not know.
   */
  stats(group: string): [name: string, value: string][] | null;
}

export interface EngineHooks {
  readonly log: Logger;
  /** The `shutdown` command (enabled by -A) asks the node to stop. */
  requestShutdown(graceful: boolean): void;
}

