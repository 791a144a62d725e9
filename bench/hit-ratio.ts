import net from 'node:net';
import { log, startTarget, stopTarget, type Target } from './targets';
import { Zipf } from './zipf';

export interface HitRatioRow {
  target: string;
  gets: number;
  misses: number;
  missRatio: number;
}

const KEYS = 300_000;
const REQUESTS = 600_000;
const SCAN_EVERY = 60_000;
const SCAN_LENGTH = 30_000;
const VALUE = 400;
const BATCH = 500;

/** Zipf(0.99) over 300,000 keys, with a one-time scan of 30,000 new keys every 60,000 requests. */
function trace(): string[] {
  const zipf = new Zipf(KEYS, 0.99, 42);
  const keys: string[] = [];
  let scanned = 0;
  for (let i = 0; i < REQUESTS; i++) {
    if (i > 0 && i % SCAN_EVERY === 0) {
      for (let s = 0; s < SCAN_LENGTH; s++) keys.push(`scan:${scanned++}`);
    }
    keys.push(`key:${zipf.next()}`);
  }
  return keys;
}

/** Cache-aside replay: get each key; on a miss, set it. Batches of gets are pipelined. */
async function replay(port: number, keys: string[], name: string): Promise<{ gets: number; misses: number }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.setNoDelay(true);
  const value = 'v'.repeat(VALUE);
  let buffered = '';
  let waiter: (() => void) | null = null;
  socket.on('data', (d) => {
    buffered += d.toString('latin1');
    waiter?.();
  });
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((r) => (waiter = r));
  };
  let misses = 0;
  for (let start = 0; start < keys.length; start += BATCH) {
    const batch = keys.slice(start, start + BATCH);
    socket.write(batch.map((k) => `get ${k}\r\n`).join(''));
    let ends = 0;
    await until(() => {
      ends = buffered.split('END\r\n').length - 1;
      return ends >= batch.length;
    });
    // Hits say "VALUE <key>"; every other key of the batch missed.
    const hit = new Set<string>();
    for (const m of buffered.matchAll(/VALUE (\S+) /g)) hit.add(m[1]!);
    buffered = '';
    const sets = batch.filter((k) => !hit.has(k));
    misses += sets.length;
    if (sets.length) {
      socket.write(sets.map((k) => `set ${k} 0 0 ${VALUE} noreply\r\n${value}\r\n`).join('') + 'mn\r\n');
      await until(() => buffered.endsWith('MN\r\n'));
      buffered = '';
    }
    if ((start / BATCH) % 300 === 299) log(`hit ratio ${name}: ${(start + BATCH).toLocaleString('en')} of ${keys.length.toLocaleString('en')} requests`);
  }
  socket.end();
  return { gets: keys.length, misses };
}

/**
 * Belady's offline optimum for `capacity` items (evict the item used again farthest in the
 * future; never keep one that is not used again): the bound no eviction policy can beat.
 */
function beladyMisses(keys: string[], capacity: number): number {
  const n = keys.length;
  const nextUse = new Float64Array(n);
  const last = new Map<string, number>();
  for (let i = n - 1; i >= 0; i--) {
    nextUse[i] = last.get(keys[i]!) ?? Infinity;
    last.set(keys[i]!, i);
  }
  const cache = new Map<string, number>();
  const heap: Array<[number, string]> = [];
  const push = (x: [number, string]) => {
    heap.push(x);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (heap[p]![0] >= heap[i]![0]) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const pop = (): [number, string] => {
    const top = heap[0]!;
    const tail = heap.pop()!;
    if (heap.length) {
      heap[0] = tail;
      for (let i = 0; ;) {
        const a = 2 * i + 1;
        const b = a + 1;
        let m = i;
        if (a < heap.length && heap[a]![0] > heap[m]![0]) m = a;
        if (b < heap.length && heap[b]![0] > heap[m]![0]) m = b;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  let misses = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const next = nextUse[i]!;
    if (!cache.has(key)) {
      misses++;
      if (next === Infinity) continue;
      while (cache.size >= capacity) {
        const [use, victim] = pop();
        if (cache.get(victim) === use) cache.delete(victim);
      }
    }
    cache.set(key, next);
    push([next, key]);
  }
  return misses;
}

/** Items of this trace that fit in -m 64 with the native engine's accounting (56 + key + value). */
const CAPACITY_AT_64MB = Math.floor((64 * 1024 * 1024) / (56 + 10 + VALUE));

/** Miss ratio of every target on the same trace with -m 64, and the offline optimum. */
export async function hitRatioBenchmark(targets: Target[]): Promise<HitRatioRow[]> {
  const keys = trace();
  const rows: HitRatioRow[] = [];
  const optimum = beladyMisses(keys, CAPACITY_AT_64MB);
  log(`hit ratio: Belady's optimum for ${CAPACITY_AT_64MB} items would miss ${(optimum / keys.length).toFixed(4)}`);
  for (const t of targets) {
    const r = await startTarget(t, 64);
    try {
      const { gets, misses } = await replay(r.port, keys, t.name);
      log(`hit ratio ${t.name}: miss ratio ${(misses / gets).toFixed(4)}`);
      rows.push({ target: t.name, gets, misses, missRatio: misses / gets });
    } finally {
      await stopTarget(r);
    }
  }
  rows.push({ target: `optimum (Belady, ${CAPACITY_AT_64MB} items, offline)`, gets: keys.length, misses: optimum, missRatio: optimum / keys.length });
  return rows;
}
