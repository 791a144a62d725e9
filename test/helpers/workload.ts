import { RawClient } from './client';
import { Random } from './random';

/** Short keys, and two long ones: records carry keys of up to 250 bytes (encoders take two paths). */
export const KEYS = [...Array.from({ length: 30 }, (_, i) => `k${i}`), `long:${'x'.repeat(35)}`, `max:${'y'.repeat(246)}`];

/**
 * Random writes of every kind replication carries (set, add, replace, append, prepend, incr,
 * decr, delete, touch, gat, cas, flush_all), pipelined, including delete-then-set of one key in
 * one batch; and the meta writes: ms in every mode (with and without C, I with an older CAS),
 * md (plain, I, q), ma (incr, decr, N auto-create), mg N (vivify) and T (touch). CAS values for
 * `cas` and `C` come from the client's own earlier `gets` and meta `c` flags.
 */
export class Workload {
  private readonly cas: string[] = [];
  batches = 0;

  constructor(private readonly rng: Random) {}

  private value(): string {
    const r = this.rng;
    return r.chance(0.4) ? String(r.int(0, 100000)) : `v${r.int(0, 1e6).toString(36)}`.repeat(r.int(1, 3));
  }

  private exptime(): number {
    return this.rng.chance(0.7) ? 0 : this.rng.int(1000, 5000);
  }

  command(): string {
    const r = this.rng;
    const k = r.pick(KEYS);
    const v = this.value();
    const op = r.weighted([
      [30, 'set'], [5, 'add'], [5, 'replace'], [5, 'append'], [5, 'prepend'], [8, 'incr'], [4, 'decr'], [10, 'delete'],
      [6, 'touch'], [3, 'gat'], [8, 'cas'], [6, 'gets'], [0.1, 'flush_all'], [5, 'delete-then-set'],
      [12, 'ms'], [4, 'md'], [6, 'ma'], [4, 'mg'],
    ] as const);
    const cas = (): string => (this.cas.length > 0 && r.chance(0.8) ? r.pick(this.cas) : String(r.int(1, 1e9)));
    switch (op) {
      case 'set': case 'add': case 'replace': case 'append': case 'prepend':
        return `${op} ${k} ${r.int(0, 9)} ${this.exptime()} ${v.length}\r\n${v}\r\n`;
      case 'incr': case 'decr': return `${op} ${k} ${r.int(0, 1000)}\r\n`;
      case 'delete': return `delete ${k}\r\n`;
      case 'touch': return `touch ${k} ${this.exptime()}\r\n`;
      case 'gat': return `gat ${this.exptime()} ${k}\r\n`;
      case 'gets': return `gets ${k} ${r.pick(KEYS)}\r\n`;
      case 'cas': {
        const cas = this.cas.length > 0 && r.chance(0.8) ? r.pick(this.cas) : String(r.int(1, 1e9));
        return `cas ${k} ${r.int(0, 9)} ${this.exptime()} ${v.length} ${cas}\r\n${v}\r\n`;
      }
      case 'flush_all': return 'flush_all\r\n';
      case 'delete-then-set': return `delete ${k}\r\nset ${k} 1 0 ${v.length}\r\n${v}\r\n`;
      case 'ms': {
        const mode = r.pick(['', ' MS', ' ME', ' MA', ' MP', ' MR']);
        const withCas = r.chance(0.3) ? ` C${cas()}${r.chance(0.4) ? ' I' : ''}` : '';
        return `ms ${k} ${v.length}${mode} F${r.int(0, 9)} T${this.exptime()}${withCas} c${r.chance(0.2) ? ' q' : ''}\r\n${v}\r\n`;
      }
      case 'md': return `md ${k}${r.pick(['', ' q', ' I', ` I T${this.exptime()}`, ` C${cas()}`])}\r\n`;
      case 'ma': return `ma ${k}${r.pick(['', ' MD', ' MI'])} D${r.int(0, 1000)}${r.chance(0.5) ? ` N${this.exptime()} J${r.int(0, 1000)}` : ''} c\r\n`;
      case 'mg': return `mg ${k} c v${r.pick([` N${this.exptime()}`, ` T${this.exptime()}`, ''])}\r\n`;
    }
  }

  /** Sends one pipelined batch and reads every reply (the batch ends with `mn`). */
  async batch(c: RawClient, size: number): Promise<void> {
    let text = '';
    for (let i = 0; i < size; i++) text += this.command();
    const replies = await c.call(`${text}mn\r\n`, 'MN\r\n', 10_000);
    for (const m of replies.matchAll(/^(?:VALUE \S+ \d+ \d+ (\d+)|(?:HD|VA \d+|EX|NS|NF)\b.* c(\d+)\b.*)\r$/gm)) {
      this.cas.push((m[1] ?? m[2])!);
      if (this.cas.length > 50) this.cas.shift();
    }
    this.batches++;
  }
}
