import { readFileSync } from 'node:fs';
import { parseArgv, parseInteger, type OptionSpec } from './argv';
import {
  DEFAULT_BACKLOG_BYTES, DEFAULT_REPLICATION_PORT, DEFAULT_SETTINGS, type BindingProtocol, type EngineChoice, type ReplicationMode,
  type ReplicationSettings, type Settings,
} from './settings';
import { metricsSettings } from './metrics-settings';
import { UsageError } from './usage-error';

/** memcached's own flags (long names as memcached spells them), plus --engine. */
export const SERVE_OPTIONS = {
  port: { short: 'p', long: 'port', takesValue: true },
  listen: { short: 'l', long: 'listen', takesValue: true },
  udpPort: { short: 'U', long: 'udp-port', takesValue: true },
  memory: { short: 'm', long: 'memory-limit', takesValue: true },
  connections: { short: 'c', long: 'conn-limit', takesValue: true },
  threads: { short: 't', long: 'threads', takesValue: true },
  reqsPerEvent: { short: 'R', long: 'max-reqs-per-event', takesValue: true },
  itemSize: { short: 'I', long: 'max-item-size', takesValue: true },
  verbose: { short: 'v', long: 'verbose', takesValue: false },
  daemon: { short: 'd', long: 'daemon', takesValue: false },
  pidFile: { short: 'P', long: 'pidfile', takesValue: true },
  logFile: { long: 'log-file', takesValue: true },
  user: { short: 'u', long: 'user', takesValue: true },
  noEvictions: { short: 'M', long: 'disable-evictions', takesValue: false },
  noCas: { short: 'C', long: 'disable-cas', takesValue: false },
  shutdown: { short: 'A', long: 'enable-shutdown', takesValue: false },
  noFlush: { short: 'F', long: 'disable-flush-all', takesValue: false },
  extended: { short: 'o', long: 'extended', takesValue: true },
  engine: { long: 'engine', takesValue: true },
  protocol: { short: 'B', long: 'protocol', takesValue: true },
  sasl: { short: 'S', long: 'enable-sasl', takesValue: false },
  saslPwdb: { long: 'sasl-pwdb', takesValue: true },
  authFile: { short: 'Y', long: 'auth-file', takesValue: true },
  peer: { short: 'x', long: 'peer', takesValue: true },
  replPort: { short: 'X', long: 'repl-port', takesValue: true },
  replListen: { long: 'repl-listen', takesValue: true },
  replSecret: { long: 'repl-secret', takesValue: true },
  replSecretFile: { long: 'repl-secret-file', takesValue: true },
  replMode: { long: 'repl-mode', takesValue: true },
  replBacklog: { long: 'repl-backlog', takesValue: true },
  serveStale: { long: 'serve-stale', takesValue: false },
  metricsPort: { long: 'metrics-port', takesValue: true },
  metricsListen: { long: 'metrics-listen', takesValue: true },
  help: { short: 'h', long: 'help', takesValue: false },
  version: { short: 'V', long: 'version', takesValue: false },
} satisfies Record<string, OptionSpec>;

export type ServeCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; settings: Settings; warnings: string[] };

const ITEM_SIZE_MIN = 1024;
const ITEM_SIZE_UPPER = 1024 * 1024 * 1024;

/** Where --repl-secret may come from instead of the command line, which other users can read. */
export const REPL_SECRET_ENV = 'MEMCACHE_HA_REPL_SECRET';

/** memcached's variable naming the `user:password` file SASL checks (its PWDB build). */
export const SASL_PWDB_ENV = 'MEMCACHED_SASL_PWDB';

interface ReplicationFlags {
  peer?: string;
  port?: number;
  listen?: string;
  secret?: string;
  mode?: ReplicationMode;
  backlogBytes?: number;
  serveStale?: boolean;
}

export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeCommand {
  const s: Settings = { ...DEFAULT_SETTINGS };
  const warnings: string[] = [];
  let itemSizeText: string | null = null;
  const repl: ReplicationFlags = {};
  let protocolGiven = false;
  let metricsPort: string | null = null;
  let metricsListen: string | null = null;
  const O = SERVE_OPTIONS;
  for (const { spec, value } of parseArgv(argv, Object.values(O))) {
    switch (spec) {
      case O.help: return { kind: 'help' };
      case O.version: return { kind: 'version' };
      case O.port: s.port = parseInteger(value, '-p', 0, 65535); break;
      case O.listen:
        if (value.trim() === '') throw new UsageError('-l: the listen address is empty');
        s.listen = value;
        break;
      case O.udpPort:
        if (parseInteger(value, '-U', 0, 65535) !== 0) warnings.push(`-U ${value}: UDP is not served; continuing with TCP only`);
        break;
      case O.memory: s.maxBytes = parseInteger(value, '-m', 1, 1024 * 1024 * 1024) * 1024 * 1024; break;
      case O.connections: s.maxConnections = parseInteger(value, '-c', 1, 1_000_000); break;
      case O.threads: s.threads = parseInteger(value, '-t', 1, 1024); break;
      case O.reqsPerEvent: s.reqsPerEvent = parseInteger(value, '-R', 1, 2 ** 31 - 1); break;
      case O.itemSize: itemSizeText = value; break;
      case O.verbose: s.verbosity++; break;
      case O.daemon: s.daemonize = true; break;
      case O.pidFile: s.pidFile = value; break;
      case O.logFile: s.logFile = value; break;
      case O.user: s.user = value; break;
      case O.noEvictions: s.evictions = false; break;
      case O.noCas: s.casEnabled = false; break;
      case O.shutdown: s.shutdownEnabled = true; break;
      case O.noFlush: s.flushEnabled = false; break;
      case O.extended:
        for (const name of value.split(',').filter(Boolean)) warnings.push(`-o ${name}: not supported, ignored`);
        break;
      case O.engine: s.engine = parseEngine(value); break;
      case O.protocol: s.protocol = parseProtocol(value); protocolGiven = true; break;
      case O.sasl: s.sasl = true; break;
      case O.saslPwdb: s.saslPwdb = nonEmpty(value, '--sasl-pwdb'); break;
      case O.authFile: s.authFile = nonEmpty(value, '-Y'); s.asciiAuth = true; break;
      case O.peer:
        if (value.trim() === '') throw new UsageError('-x: the peer address is empty');
        repl.peer = value;
        break;
      case O.replPort: repl.port = parseInteger(value, '-X', 1, 65535); break;
      case O.replListen:
        if (value.trim() === '') throw new UsageError('--repl-listen: the address is empty');
        repl.listen = value;
        break;
      case O.replSecret: repl.secret = value; break;
      case O.replSecretFile: repl.secret = readSecretFile(value); break;
      case O.replMode:
        if (value !== 'async' && value !== 'sync') throw new UsageError(`--repl-mode: '${value}' is not async or sync`);
        repl.mode = value;
        break;
      case O.replBacklog: repl.backlogBytes = parseSize(value, '--repl-backlog', 64 * 1024, 16 * 1024 ** 3); break;
      case O.serveStale: repl.serveStale = true; break;
      case O.metricsPort: metricsPort = value; break;
      case O.metricsListen: metricsListen = value; break;
    }
  }
  s.metrics = metricsSettings(metricsPort, metricsListen);
  authSettings(s, protocolGiven, env);
  s.replication = replicationSettings(repl, s.listen, env);
  if (itemSizeText !== null) s.itemSizeMax = parseItemSize(itemSizeText);
  if (s.itemSizeMax > s.maxBytes / 2) {
    throw new UsageError('Cannot set item size limit higher than 1/2 of memory max.');
  }
  return { kind: 'run', settings: s, warnings };
}

/**
 * As memcached: -S serves only the binary protocol and -Y only the text one, unless -B says
 * otherwise, and a -B that contradicts them is refused. Both at once would leave SASL unusable
 * (memcached quietly lets -Y win): refused too.
 */
function authSettings(s: Settings, protocolGiven: boolean, env: NodeJS.ProcessEnv): void {
  if (s.saslPwdb !== null && !s.sasl) throw new UsageError('--sasl-pwdb needs -S');
  if (s.sasl && s.asciiAuth) throw new UsageError('-S and -Y cannot be used together: -S serves the binary protocol, -Y the text protocol');
  if (s.sasl) {
    if (protocolGiven && s.protocol !== 'binary') throw new UsageError('ERROR: You cannot allow the ASCII protocol while using SASL.');
    s.protocol = 'binary';
    s.saslPwdb ??= env[SASL_PWDB_ENV] || null;
    if (s.saslPwdb === null) throw new UsageError(`-S needs a password file: --sasl-pwdb <file> or ${SASL_PWDB_ENV}=<file> (lines user:password)`);
  }
  if (s.asciiAuth) {
    if (protocolGiven && s.protocol !== 'ascii') throw new UsageError('ERROR: You cannot allow the BINARY protocol while using ascii authentication tokens.');
    s.protocol = 'ascii';
  }
}

function nonEmpty(value: string, option: string): string {
  if (value.trim() === '') throw new UsageError(`${option}: the file name is empty`);
  return value;
}

/** memcached's -B values. */
export function parseProtocol(value: string): BindingProtocol {
  if (value === 'auto' || value === 'ascii' || value === 'binary') return value;
  throw new UsageError(`Invalid value for binding protocol: ${value} -- should be one of auto, binary, or ascii`);
}

function replicationSettings(f: ReplicationFlags, clientListen: string, env: NodeJS.ProcessEnv): ReplicationSettings | null {
  if (f.peer === undefined && f.port === undefined) {
    if (Object.keys(f).length > 0) throw new UsageError('the --repl-* options need -x <peer> (or -X <port> to wait for a peer)');
    return null;
  }
  const secret = f.secret ?? (env[REPL_SECRET_ENV] || null);
  if (secret !== null && secret.length === 0) throw new UsageError('--repl-secret: the secret is empty');
  const listen = f.listen ?? clientListen;
  if (secret === null && !isLoopback(listen)) {
    throw new UsageError(
      `replication port bound to ${listen}, which is not a loopback address: give a shared secret ` +
        `(--repl-secret, --repl-secret-file or ${REPL_SECRET_ENV}) or bind it with --repl-listen 127.0.0.1`,
    );
  }
  return {
    peer: f.peer ?? null,
    port: f.port ?? DEFAULT_REPLICATION_PORT,
    listen,
    secret,
    mode: f.mode ?? 'async',
    backlogBytes: f.backlogBytes ?? DEFAULT_BACKLOG_BYTES,
    serveStale: f.serveStale ?? false,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new UsageError(`--repl-secret-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

export function parseEngine(value: string): EngineChoice {
  if (value === 'auto' || value === 'native' || value === 'ts') return value;
  throw new UsageError(`--engine: '${value}' is not one of auto, native, ts`);
}

/** Bytes, or a number with a k, m or g suffix, within [min, max]. */
export function parseSize(text: string, option: string, min: number, max: number): number {
  const size = sizeOf(text, option);
  if (size < min || size > max) throw new UsageError(`${option}: ${text} is out of range (${min} to ${max} bytes)`);
  return size;
}

function sizeOf(text: string, option: string): number {
  const m = /^([0-9]+)([kKmMgG]?)$/.exec(text);
  if (!m) throw new UsageError(`${option}: '${text}' is not a size (examples: 1m, 512k, 2097152)`);
  const unit = m[2]!.toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : unit === 'g' ? 1024 ** 3 : 1);
}

/** memcached's -I: bytes, or a number with a k or m suffix. */
export function parseItemSize(text: string): number {
  const size = sizeOf(text, '-I');
  if (size < ITEM_SIZE_MIN) throw new UsageError('Item max size cannot be less than 1024 bytes.');
  if (size > ITEM_SIZE_UPPER) throw new UsageError('Cannot set item size limit higher than a gigabyte.');
  return size;
}
