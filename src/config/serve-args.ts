import { parseArgv, parseInteger, type OptionSpec } from './argv';
import { DEFAULT_SETTINGS, type EngineChoice, type Settings } from './settings';
import { UsageError } from './usage-error';

/** memcached's own flags (long names as memcached spells them), plus --engine. */
export const SERVE_OPTIONS = {
  port: { short: 'p', long: 'port', takesValue: true },
  listen: { short: 'l', long: 'listen', takesValue: true },
  udpPort: { short: 'U', long: 'udp-port', takesValue: true },
  memory: { short: 'm', long: 'memory-limit', takesValue: true },
  connections: { short: 'c', long: 'conn-limit', takesValue: true },
  threads: { short: 't', long: 'threads', takesValue: true },
  itemSize: { short: 'I', long: 'max-item-size', takesValue: true },
  verbose: { short: 'v', long: 'verbose', takesValue: false },
  daemon: { short: 'd', long: 'daemon', takesValue: false },
  pidFile: { short: 'P', long: 'pidfile', takesValue: true },
  user: { short: 'u', long: 'user', takesValue: true },
  noEvictions: { short: 'M', long: 'disable-evictions', takesValue: false },
  noCas: { short: 'C', long: 'disable-cas', takesValue: false },
  shutdown: { short: 'A', long: 'enable-shutdown', takesValue: false },
  noFlush: { short: 'F', long: 'disable-flush-all', takesValue: false },
  extended: { short: 'o', long: 'extended', takesValue: true },
  engine: { long: 'engine', takesValue: true },
  help: { short: 'h', long: 'help', takesValue: false },
  version: { short: 'V', long: 'version', takesValue: false },
} satisfies Record<string, OptionSpec>;

export type ServeCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; settings: Settings; warnings: string[] };

const ITEM_SIZE_MIN = 1024;
const ITEM_SIZE_UPPER = 1024 * 1024 * 1024;

export function parseServeArgs(argv: readonly string[]): ServeCommand {
  const s: Settings = { ...DEFAULT_SETTINGS };
  const warnings: string[] = [];
  let itemSizeText: string | null = null;
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
      case O.itemSize: itemSizeText = value; break;
      case O.verbose: s.verbosity++; break;
      case O.daemon: s.daemonize = true; break;
      case O.pidFile: s.pidFile = value; break;
      case O.user: s.user = value; break;
      case O.noEvictions: s.evictions = false; break;
      case O.noCas: s.casEnabled = false; break;
      case O.shutdown: s.shutdownEnabled = true; break;
      case O.noFlush: s.flushEnabled = false; break;
      case O.extended:
        for (const name of value.split(',').filter(Boolean)) warnings.push(`-o ${name}: not supported, ignored`);
        break;
      case O.engine: s.engine = parseEngine(value); break;
    }
  }
  if (itemSizeText !== null) s.itemSizeMax = parseItemSize(itemSizeText);
  if (s.itemSizeMax > s.maxBytes / 2) {
    throw new UsageError('Cannot set item size limit higher than 1/2 of memory max.');
  }
  return { kind: 'run', settings: s, warnings };
}

function parseEngine(value: string): EngineChoice {
  if (value === 'auto' || value === 'native' || value === 'ts') return value;
  throw new UsageError(`--engine: '${value}' is not one of auto, native, ts`);
}

/** memcached's -I: bytes, or a number with a k or m suffix. */
export function parseItemSize(text: string): number {
  const m = /^([0-9]+)([kKmMgG]?)$/.exec(text);
  if (!m) throw new UsageError(`-I: '${text}' is not a size (examples: 1m, 512k, 2097152)`);
  const unit = m[2]!.toLowerCase();
  const size = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : unit === 'g' ? 1024 ** 3 : 1);
  if (size < ITEM_SIZE_MIN) throw new UsageError('Item max size cannot be less than 1024 bytes.');
  if (size > ITEM_SIZE_UPPER) throw new UsageError('Cannot set item size limit higher than a gigabyte.');
  return size;
}
