import type { MetricsSettings } from './metrics-settings';
import type { EngineChoice } from './settings';

/** A backend node as the proxy addresses it. */
export interface ServerAddress {
  host: string;
  port: number;
  /** ketama weight (host:port:weight), 1 by default. */
  weight: number;
}

/** host:port ([v6]:port): how a server is named in logs, `stats proxy` and `top`, and its identity across reloads (weight aside). */
export function serverName(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Validated configuration of the proxy; the only shape that crosses from the CLI into it. */
export interface ProxySettings {
  port: number;
  listen: string;
  /** -f: listen on this unix socket instead of TCP. */
  socketPath: string | null;
  /** -s: shards, each a replica group tried in order (`-s A,B`); most are one node. */
  shards: ServerAddress[][];
  /** -b: the backup pool (magent): writes mirrored after the main succeeded, reads fall back. */
  backups: ServerAddress[];
  maxClients: number;
  /** -i: pipelined connections per backend node. */
  connectionsPerServer: number;
  timeoutMs: number;
  probeIntervalMs: number;
  failureLimit: number;
  /** With -b: how long a main without replication counts as refilling after it was lost. */
  warmupMs: number;
  /** Largest value accepted from a client (the nodes apply their own -I). */
  maxValue: number;
  verbosity: number;
  /** The data path: the addon's (native), TypeScript's (ts), or native when it loads (auto). */
  engine: EngineChoice;
  daemonize: boolean;
  pidFile: string | null;
  /** --log-file: log lines go to this file (reopened on SIGHUP) instead of stderr. */
  logFile: string | null;
  user: string | null;
  /** -S: binary clients must authenticate with SASL PLAIN (users from saslPwdb); text clients are refused, as by memcached -S. */
  sasl: boolean;
  /** --sasl-pwdb (or MEMCACHED_SASL_PWDB): `user:password` lines for -S. */
  saslPwdb: string | null;
  /** -Y: text clients must authenticate memcached's -Y way (users from this file); binary clients are refused. */
  authFile: string | null;
  /** The proxy's own credentials for its backends: SASL PLAIN on binary connections, -Y's `set` on text ones. */
  backendAuth: BackendCredentials | null;
  /** --metrics-port: Prometheus's /metrics; null: off. */
  metrics: MetricsSettings | null;
}

/** A user and password (latin1) the proxy logs in to its backends with. */
export interface BackendCredentials {
  user: string;
  password: string;
}

export const DEFAULT_PROXY_SETTINGS: ProxySettings = {
  port: 11211,
  listen: '127.0.0.1',
  socketPath: null,
  shards: [],
  backups: [],
  maxClients: 4096,
  connectionsPerServer: 1,
  timeoutMs: 1000,
  probeIntervalMs: 500,
  failureLimit: 2,
  warmupMs: 60_000,
  maxValue: 1024 * 1024,
  verbosity: 0,
  engine: 'auto',
  daemonize: false,
  pidFile: null,
  logFile: null,
  user: null,
  sasl: false,
  saslPwdb: null,
  authFile: null,
  backendAuth: null,
  metrics: null,
};
