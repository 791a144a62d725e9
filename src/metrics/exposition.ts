/**
 * Prometheus's text exposition format (version 0.0.4): one family at a time, its HELP and TYPE
 * lines, then its samples. Names are the caller's and checked here, so a typo fails a test
 * instead of a scrape.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export type Labels = Readonly<Record<string, string>>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class Exposition {
  private readonly lines: string[] = [];
  private readonly families = new Set<string>();

  /** Starts a family; its samples follow. A family given twice is a bug. */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`metric name ${name}`);
    if (this.families.has(name)) throw new Error(`metric family ${name} given twice`);
    this.families.add(name);
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample of the current family (`name` may carry a histogram's _bucket/_sum/_count suffix). */
  sample(name: string, value: number, labels: Labels = {}): this {
    const pairs = Object.entries(labels);
    let text = name;
    if (pairs.length > 0) {
      text += `{${pairs.map(([k, v]) => {
        if (!LABEL.test(k)) throw new Error(`label name ${k}`);
        return `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
      }).join(',')}}`;
    }
    this.lines.push(`${text} ${formatValue(value)}`);
    return this;
  }

  /** A family with one sample. */
  single(name: string, type: MetricType, help: string, value: number, labels: Labels = {}): this {
    return this.family(name, type, help).sample(name, value, labels);
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
