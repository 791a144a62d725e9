/** mulberry32: a small seeded PRNG, so a failing run replays from its seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight from [weight, value] pairs. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    const total = table.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of table) {
      r -= w;
      if (r < 0) return v;
    }
    return table[table.length - 1]![1];
  }
}

/**
 * The seeds a randomized test runs: those in the environment variable `envVar` (a comma list,
 * to replay a failure), else `fixed` plus one fresh seed per run.
 */
export function seedsFrom(envVar: string, fixed: readonly number[] = [1, 2, 3]): number[] {
  const given = process.env[envVar];
  if (given) return given.split(',').map(Number);
  return [...fixed, Math.floor(Math.random() * 2 ** 31)];
}

/**
 * Runs `body` once per seed with a fresh Random; a failure's message starts with the seed and
 * the variable that replays it (the assertion's own details are kept).
 */
export function forEachSeed(envVar: string, body: (r: Random, seed: number) => void, fixed?: readonly number[]): void {
  for (const seed of seedsFrom(envVar, fixed)) {
    try {
      body(new Random(seed), seed);
    } catch (err) {
      if (err instanceof Error) err.message = `seed ${seed} (replay: ${envVar}=${seed}): ${err.message}`;
      throw err;
    }
  }
}

/** A random permutation of `items` (Fisher-Yates), leaving `items` as it is. */
export function shuffled<T>(r: Random, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
