import { rssBytes } from '../test/helpers/proc-stats';
import { log, pipe, startTarget, stopTarget, type Target } from './targets';

export interface MemoryRow {
  target: string;
  items: number;
  rssPerItem: number;
}

const ITEMS = 1_000_000;
const VALUE = 100;

function* loadChunks(): Generator<string> {
  const value = 'v'.repeat(VALUE);
  const per = 10_000;
  for (let start = 0; start < ITEMS; start += per) {
    let chunk = '';
    for (let i = start; i < start + per; i++) chunk += `set key:${String(i).padStart(7, '0')} 0 0 ${VALUE} noreply\r\n${value}\r\n`;
    yield chunk;
  }
}

/** RSS growth per item after storing 1M items of 100 bytes, every target with -m 1024. */
export async function memoryBenchmark(targets: Target[]): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const t of targets) {
    const r = await startTarget(t, 1024);
    try {
      await new Promise((res) => setTimeout(res, 300));
      const before = rssBytes(r.proc.pid!);
      await pipe(r.port, loadChunks(), (i) => {
        if (i % 25 === 24) log(`memory ${t.name}: ${((i + 1) * 10_000).toLocaleString('en')} items loaded`);
      });
      await new Promise((res) => setTimeout(res, 500));
      const perItem = (rssBytes(r.proc.pid!) - before) / ITEMS;
      log(`memory ${t.name}: ${perItem.toFixed(1)} bytes of RSS per item`);
      rows.push({ target: t.name, items: ITEMS, rssPerItem: perItem });
    } finally {
      await stopTarget(r);
    }
  }
  return rows;
}
