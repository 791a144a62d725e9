import { parseArgv, parseInteger, type OptionSpec } from './argv';
import { parseServer } from './proxy-args';
import { serverName } from './proxy-settings';
import { UsageError } from './usage-error';

export interface TopTarget {
  host: string;
  port: number;
  /** As shown: host:port ([v6]:port). */
  name: string;
}

export interface TopSettings {
  targets: TopTarget[];
  /** -d: seconds between refreshes. */
  delayMs: number;
  /** -n: refreshes before exiting; null: until q (or a signal). */
  iterations: number | null;
}

export type TopCommand = { kind: 'help' } | { kind: 'run'; settings: TopSettings };

const TOP_OPTIONS = {
  help: { short: 'h', long: 'help', takesValue: false },
  delay: { short: 'd', long: 'delay', takesValue: true },
  iterations: { short: 'n', long: 'iterations', takesValue: true },
} satisfies Record<string, OptionSpec>;

/** `top [-d seconds] [-n count] [host[:port] ...]`: options as top(1) names them, then the targets (default 127.0.0.1:11211). */
export function parseTopArgs(argv: readonly string[]): TopCommand {
  if (argv.includes('-h') || argv.includes('--help')) return { kind: 'help' };
  const options: string[] = [];
  const targets: TopTarget[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('-')) {
      options.push(arg);
      // A value-taking option given alone takes the next argument as its value.
      if (['-d', '-n', '--delay', '--iterations'].includes(arg) && i + 1 < argv.length) options.push(argv[++i]!);
      continue;
    }
    const a = parseServer(arg, 'top');
    targets.push({ host: a.host, port: a.port, name: serverName(a) });
  }
  const settings: TopSettings = { targets, delayMs: 1000, iterations: null };
  for (const { spec, value } of parseArgv(options, Object.values(TOP_OPTIONS))) {
    if (spec === TOP_OPTIONS.help) return { kind: 'help' };
    if (spec === TOP_OPTIONS.delay) settings.delayMs = parseSeconds(value);
    if (spec === TOP_OPTIONS.iterations) settings.iterations = parseInteger(value, '-n', 1, 1_000_000);
  }
  if (targets.length === 0) targets.push({ host: '127.0.0.1', port: 11211, name: serverName({ host: '127.0.0.1', port: 11211 }) });
  if (targets.length > 64) throw new UsageError('top: 64 targets at most');
  return { kind: 'run', settings };
}

/** -d: seconds, whole or decimal, from 0.1 to 3600. */
function parseSeconds(value: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) throw new UsageError(`-d: '${value}' is not a number of seconds`);
  const ms = Math.round(Number(value) * 1000);
  if (ms < 100 || ms > 3_600_000) throw new UsageError(`-d: ${value} is out of range (0.1 to 3600 seconds)`);
  return ms;
}
