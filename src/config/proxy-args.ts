import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseArgv, parseInteger, type OptionSpec } from './argv';
import { DEFAULT_PROXY_SETTINGS, type BackendCredentials, type ProxySettings, type ServerAddress } from './proxy-settings';
import { parseEngine, parseSize } from './serve-args';
import { metricsSettings } from './metrics-settings';
import { UsageError } from './usage-error';
import { readPasswordFile } from './password-file';

const SASL_PWDB_ENV = 'MEMCACHED_SASL_PWDB';

/** --metrics-port and --metrics-listen as given (file, then flags), checked together at the end. */
interface MetricsFlags {
  port: string | null;
  listen: string | null;
}

/** magent's flags, then the extensions (long names only). */
export const PROXY_OPTIONS = {
  port: { short: 'p', long: 'port', takesValue: true },
  listen: { short: 'l', long: 'listen', takesValue: true },
  server: { short: 's', long: 'server', takesValue: true },
  backup: { short: 'b', long: 'backup', takesValue: true },
  maxClients: { short: 'n', long: 'max-clients', takesValue: true },
  idle: { short: 'i', long: 'connections', takesValue: true },
  ketama: { short: 'k', long: 'ketama', takesValue: false },
  foreground: { short: 'D', long: 'foreground', takesValue: false },
  daemon: { short: 'd', long: 'daemon', takesValue: false },
  user: { short: 'u', long: 'user', takesValue: true },
  group: { short: 'g', long: 'group', takesValue: true },
  socket: { short: 'f', long: 'socket', takesValue: true },
  pidFile: { short: 'P', long: 'pidfile', takesValue: true },
  logFile: { long: 'log-file', takesValue: true },
  verbose: { short: 'v', long: 'verbose', takesValue: false },
  itemSize: { short: 'I', long: 'max-item-size', takesValue: true },
  timeout: { long: 'timeout', takesValue: true },
  probeInterval: { long: 'probe-interval', takesValue: true },
  failureLimit: { long: 'failure-limit', takesValue: true },
  warmup: { long: 'warmup', takesValue: true },
  config: { short: 'c', long: 'config', takesValue: true },
  engine: { long: 'engine', takesValue: true },
  sasl: { short: 'S', long: 'enable-sasl', takesValue: false },
  saslPwdb: { long: 'sasl-pwdb', takesValue: true },
  authFile: { short: 'Y', long: 'auth-file', takesValue: true },
  backendAuth: { long: 'backend-auth', takesValue: true },
  metricsPort: { long: 'metrics-port', takesValue: true },
  metricsListen: { long: 'metrics-listen', takesValue: true },
  help: { short: 'h', long: 'help', takesValue: false },
  version: { short: 'V', long: 'version', takesValue: false },
} satisfies Record<string, OptionSpec>;

export type ProxyCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; settings: ProxySettings; warnings: string[] };

/** "host:port[:weight]", "[v6]:port[:weight]" or "host" (port 11211). */
export function parseServer(text: string, option: string): ServerAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+))(?::([0-9]+))?(?::([0-9]+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option}: '${text}' is not host:port[:weight]`);
  const host = m[1] ?? m[2]!;
  const port = m[3] === undefined ? 11211 : parseInteger(m[3], `${option} ${text}: port`, 1, 65535);
  const weight = m[4] === undefined ? 1 : parseInteger(m[4], `${option} ${text}: weight`, 1, 65535);
  return { host, port, weight };
}

/** `-s A,B`: a replica group, tried in order. */
function parseGroup(text: string, option: string): ServerAddress[] {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0) throw new UsageError(`${option}: no server given`);
  return parts.map((p) => parseServer(p, option));
}

function milliseconds(value: string, option: string): number {
  return parseInteger(value, option, 1, 3_600_000);
}

export function parseProxyArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ProxyCommand {
  const O = PROXY_OPTIONS;
  const parsed = parseArgv(argv, Object.values(O));
  for (const { spec } of parsed) {
    if (spec === O.help) return { kind: 'help' };
    if (spec === O.version) return { kind: 'version' };
  }
  const s: ProxySettings = { ...DEFAULT_PROXY_SETTINGS, shards: [], backups: [] };
  const warnings: string[] = [];
  // The configuration file first, so flags on the command line override it.
  const file = parsed.find((p) => p.spec === O.config);
  const metrics: MetricsFlags = { port: null, listen: null };
  if (file) applyConfigFile(s, metrics, file.value);
  const cliShards: ServerAddress[][] = [];
  const cliBackups: ServerAddress[] = [];
  for (const { spec, value } of parsed) {
    switch (spec) {
      case O.port: s.port = parseInteger(value, '-p', 0, 65535); break;
      case O.listen:
        if (value.trim() === '') throw new UsageError('-l: the listen address is empty');
        s.listen = value;
        break;
      case O.server: cliShards.push(parseGroup(value, '-s')); break;
      case O.backup: cliBackups.push(parseServer(value, '-b')); break;
      case O.maxClients: s.maxClients = parseInteger(value, '-n', 1, 1_000_000); break;
      case O.idle: s.connectionsPerServer = parseInteger(value, '-i', 1, 64); break;
      case O.ketama: break;
      case O.foreground: s.daemonize = false; break;
      case O.daemon: s.daemonize = true; break;
      case O.user: s.user = value; break;
      case O.group: warnings.push(`-g ${value}: the group of the user given with -u is used`); break;
      case O.socket: s.socketPath = value; break;
      case O.pidFile: s.pidFile = value; break;
      case O.logFile: s.logFile = value; break;
      case O.verbose: s.verbosity++; break;
      case O.itemSize: s.maxValue = parseSize(value, '-I', 1024, 1024 ** 3); break;
      case O.timeout: s.timeoutMs = milliseconds(value, '--timeout'); break;
      case O.probeInterval: s.probeIntervalMs = milliseconds(value, '--probe-interval'); break;
      case O.failureLimit: s.failureLimit = parseInteger(value, '--failure-limit', 1, 1000); break;
      case O.engine: s.engine = parseEngine(value); break;
      case O.warmup: s.warmupMs = parseInteger(value, '--warmup', 0, 86_400_000); break;
      case O.sasl: s.sasl = true; break;
      case O.saslPwdb: s.saslPwdb = nonEmpty(value, '--sasl-pwdb'); break;
      case O.authFile: s.authFile = nonEmpty(value, '-Y'); break;
      case O.backendAuth: s.backendAuth = backendCredentials(value, '--backend-auth'); break;
      case O.metricsPort: metrics.port = value; break;
      case O.metricsListen: metrics.listen = value; break;
    }
  }
  s.metrics = metricsSettings(metrics.port, metrics.listen);
  authSettings(s, env);
  if (cliShards.length > 0) s.shards = cliShards;
  if (cliBackups.length > 0) s.backups = cliBackups;
  if (s.shards.length === 0) throw new UsageError('no server given: use -s host:port (repeatable) or --config <file>');
  checkDuplicates(s);
  return { kind: 'run', settings: s, warnings };
}

function nonEmpty(value: string, option: string): string {
  if (value.trim() === '') throw new UsageError(`${option}: the file name is empty`);
  return value;
}

/** The first `user:password` line of a file (memcached's -Y format), read at start-up. */
function backendCredentials(path: string, option: string): BackendCredentials {
  let users;
  try {
    users = readPasswordFile(nonEmpty(path, option), 'ascii');
  } catch (err) {
    throw new UsageError(`${option}: ${(err as Error).message}`);
  }
  if (users.length === 0) throw new UsageError(`${option} ${path}: no user:password line`);
  return { user: users[0]![0], password: users[0]![1] };
}

/** As serve's -S and -Y (and memcached's): -S speaks only binary to clients, -Y only text; both at once are refused. */
function authSettings(s: ProxySettings, env: NodeJS.ProcessEnv): void {
  if (s.saslPwdb !== null && !s.sasl) throw new UsageError('--sasl-pwdb needs -S');
  if (s.sasl && s.authFile !== null) throw new UsageError('-S and -Y cannot be used together: -S serves the binary protocol, -Y the text protocol');
  if (s.sasl) {
    s.saslPwdb ??= env[SASL_PWDB_ENV] || null;
    if (s.saslPwdb === null) throw new UsageError(`-S needs a password file: --sasl-pwdb <file> or ${SASL_PWDB_ENV}=<file> (lines user:password)`);
  }
}

function checkDuplicates(s: ProxySettings): void {
  const seen = new Set<string>();
  for (const a of [...s.shards.flat(), ...s.backups]) {
    const name = `${a.host}:${a.port}`;
    if (seen.has(name)) throw new UsageError(`server ${name} is given twice`);
    seen.add(name);
  }
}

/**
 * The configuration file (JSON or YAML; JSON is YAML). Keys:
 *   listen, port, socket, servers (list: "host:port[:weight]" or a list/comma group of them),
 *   backups, max_clients, connections, timeout_ms, probe_interval_ms, failure_limit,
 *   warmup_ms, max_item_size, verbose; sasl (true: -S), sasl_pwdb, auth_file (-Y);
 *   backend_auth_file, or backend_user and backend_password (the proxy's login to its backends);
 *   metrics_port, metrics_listen.
 */
function applyConfigFile(s: ProxySettings, metrics: MetricsFlags, path: string): void {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`--config ${path}: expected a mapping of settings`);
  const where = (key: string) => `--config ${path}: ${key}`;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const text = typeof value === 'number' || typeof value === 'string' ? String(value) : null;
    const need = (): string => {
      if (text === null) throw new UsageError(`${where(key)}: expected a number or a string`);
      return text;
    };
    switch (key) {
      case 'listen': s.listen = need(); break;
      case 'port': s.port = parseInteger(need(), where(key), 0, 65535); break;
      case 'socket': s.socketPath = need(); break;
      case 'servers':
        s.shards = list(value, where(key)).map((g) => {
          if (!Array.isArray(g)) return parseGroup(String(g), where(key));
          if (g.length === 0) throw new UsageError(`${where(key)}: an empty replica group`);
          return g.map((x) => parseServer(String(x), where(key)));
        });
        break;
      case 'backups': s.backups = list(value, where(key)).map((b) => parseServer(String(b), where(key))); break;
      case 'max_clients': s.maxClients = parseInteger(need(), where(key), 1, 1_000_000); break;
      case 'connections': s.connectionsPerServer = parseInteger(need(), where(key), 1, 64); break;
      case 'timeout_ms': s.timeoutMs = milliseconds(need(), where(key)); break;
      case 'probe_interval_ms': s.probeIntervalMs = milliseconds(need(), where(key)); break;
      case 'failure_limit': s.failureLimit = parseInteger(need(), where(key), 1, 1000); break;
      case 'warmup_ms': s.warmupMs = parseInteger(need(), where(key), 0, 86_400_000); break;
      case 'max_item_size': s.maxValue = parseSize(need(), where(key), 1024, 1024 ** 3); break;
      case 'verbose': s.verbosity = parseInteger(need(), where(key), 0, 2); break;
      case 'sasl':
        if (typeof value !== 'boolean') throw new UsageError(`${where(key)}: expected true or false`);
        s.sasl = value;
        break;
      case 'sasl_pwdb': s.saslPwdb = nonEmpty(need(), where(key)); break;
      case 'auth_file': s.authFile = nonEmpty(need(), where(key)); break;
      case 'backend_auth_file': s.backendAuth = backendCredentials(need(), where(key)); break;
      case 'backend_user': s.backendAuth = { user: need(), password: s.backendAuth?.password ?? '' }; break;
      case 'backend_password': s.backendAuth = { user: s.backendAuth?.user ?? '', password: need() }; break;
      case 'metrics_port': metrics.port = need(); break;
      case 'metrics_listen': metrics.listen = need(); break;
      default: throw new UsageError(`${where(key)}: unknown setting`);
    }
  }
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new UsageError(`${where}: expected a list`);
  return value;
}
