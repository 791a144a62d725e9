import { Item } from '../src/engine/ts/store/item';
import { Store } from '../src/engine/ts/store/store';

/**
 * The TypeScript engine's memory per item beyond key and data bytes: V8 heap and external
 * growth while 300,000 items of `valueSize` bytes are linked. Run with --expose-gc; prints JSON.
 */
const N = 300_000;
const valueSize = Number(process.argv[2] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
gc();
const before = process.memoryUsage();
const store = new Store(Number.MAX_SAFE_INTEGER, true);
for (let i = 0; i < N; i++) {
  const key = `key:${String(i).padStart(8, '0')}`;
  const data = Buffer.allocUnsafeSlow(valueSize + 2);
  data.fill(120);
  data[valueSize] = 13;
  data[valueSize + 1] = 10;
  store.put(new Item(key, 0, 0, data, i, 1, 0), 0);
}
gc();
const after = process.memoryUsage();
const grown = after.heapUsed - before.heapUsed + after.external - before.external;
const payload = 12 + valueSize + 2;
process.stdout.write(JSON.stringify({ items: store.count, valueSize, bytesPerItem: grown / N, overheadPerItem: grown / N - payload }) + '\n');
