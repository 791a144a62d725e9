import { UsageError } from './usage-error';

/** One option a subcommand understands, getopt style: `-p 1`, `-p1`, `--port 1`, `--port=1`, `-vv`, `-dv`. */
export interface OptionSpec {
  short?: string;
  long: string;
  takesValue: boolean;
}

export interface ParsedOption {
  spec: OptionSpec;
  value: string;
}

export function parseArgv(argv: readonly string[], specs: readonly OptionSpec[]): ParsedOption[] {
  const byShort = new Map<string, OptionSpec>();
  const byLong = new Map<string, OptionSpec>();
  for (const spec of specs) {
    if (spec.short) byShort.set(spec.short, spec);
    byLong.set(spec.long, spec);
  }
  const out: ParsedOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const takeValue = (inline: string | undefined, shown: string): string => {
      if (inline !== undefined && inline !== '') return inline;
      if (i + 1 >= argv.length) throw new UsageError(`option ${shown} needs a value`);
      return argv[++i]!;
    };
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option --${name} (see --help)`);
      if (spec.takesValue) out.push({ spec, value: takeValue(eq < 0 ? undefined : arg.slice(eq + 1), `--${name}`) });
      else if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      else out.push({ spec, value: '' });
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') throw new UsageError(`unexpected argument '${arg}' (see --help)`);
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      const spec = byShort.get(letter);
      if (!spec) throw new UsageError(`unknown option -${letter} (see --help)`);
      if (spec.takesValue) {
        out.push({ spec, value: takeValue(arg.slice(j + 1), `-${letter}`) });
        break;
      }
      out.push({ spec, value: '' });
    }
  }
  return out;
}

/** A whole decimal number within [min, max], or a UsageError naming the option. */
export function parseInteger(value: string, option: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${option}: '${value}' is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${option}: ${value} is out of range (${min} to ${max})`);
  return n;
}
