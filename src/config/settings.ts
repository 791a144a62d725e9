/** Validated configuration of one cache node; the only shape that crosses from the CLI into a node. */
import type { MetricsSettings } from './metrics-settings';

export type EngineChoice = 'auto' | 'native' | 'ts';
/** -B: which protocols a connection may speak (auto: chosen from its first byte, as memcached does). */
export type BindingProtocol = 'auto' | 'ascii' | 'binary';

export interface Settings {
  port: number;
  listen: string;
  maxBytes: number;
  maxConnections: number;
  threads: number;
  /** -R: commands one connection runs per event before the others get a turn (memcached's reqs_per_event). */
  reqsPerEvent: number;
  itemSizeMax: number;
  verbosity: number;
  daemonize: boolean;
  pidFile: string | null;
  /** --log-file: log lines go to this file (reopened on SIGHUP) instead of stderr. */
  logFile: string | null;
  user: string | null;
  evictions: boolean;
  casEnabled: boolean;
  shutdownEnabled: boolean;
  flushEnabled: boolean;
  engine: EngineChoice;
  protocol: BindingProtocol;
  /** -S: SASL PLAIN over the binary protocol, checked against `saslPwdb`. */
  sasl: boolean;
  /** MEMCACHED_SASL_PWDB or --sasl-pwdb: `user:password` lines; set whenever `sasl` is. */
  saslPwdb: string | null;
  /** -Y: memcached's text-protocol authentication, checked against `authFile`. */
  asciiAuth: boolean;
  /** -Y's file of `user:password` lines; set whenever `asciiAuth` is. */
  authFile: string | null;
  /** -x: replicate with one peer; null runs a standalone node. */
  replication: ReplicationSettings | null;
  /** --metrics-port: Prometheus's /metrics; null: off. */
  metrics: MetricsSettings | null;
}

export type ReplicationMode = 'async' | 'sync';

export interface ReplicationSettings {
  /** -x: the peer's host; null with only -X given: wait for the peer to connect. */
  peer: string | null;
  /** -X: the replication port, listened on when free and dialled on the peer. */
  port: number;
  /** --repl-listen: the address the replication port binds (default: -l). */
  listen: string;
  /** Shared secret for the HMAC handshake; required when `listen` is not a loopback address. */
  secret: string | null;
  mode: ReplicationMode;
  /** Bytes of this node's own records kept for partial resyncs. */
  backlogBytes: number;
  /** Accept clients while catching up instead of waiting for the sync to finish. */
  serveStale: boolean;
}

export const DEFAULT_REPLICATION_PORT = 11212;
export const DEFAULT_BACKLOG_BYTES = 64 * 1024 * 1024;

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  port: 11211,
  listen: '127.0.0.1',
  maxBytes: 64 * 1024 * 1024,
  maxConnections: 1024,
  threads: 4,
  reqsPerEvent: 20,
  itemSizeMax: 1024 * 1024,
  verbosity: 0,
  daemonize: false,
  pidFile: null,
  logFile: null,
  user: null,
  evictions: true,
  casEnabled: true,
  shutdownEnabled: false,
  flushEnabled: true,
  engine: 'auto',
  protocol: 'auto',
  sasl: false,
  saslPwdb: null,
  asciiAuth: false,
  authFile: null,
  replication: null,
  metrics: null,
};
