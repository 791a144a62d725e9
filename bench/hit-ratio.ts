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

/** Miss ratio of every target on the same trace with -m 64. */
export async function hitRatioBenchmark(targets: Target[]): Promise<HitRatioRow[]> {
  const keys = trace();
  const rows: HitRatioRow[] = [];
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
  return rows;
}
