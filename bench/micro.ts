import Benchmark from 'benchmark';
import { parseRequest } from '../src/protocol/request';
import { Item } from '../src/engine/ts/store/item';
import { Store } from '../src/engine/ts/store/store';
import { VersionClock } from '../src/engine/ts/store/version-clock';
import type { DevAddon } from '../test/helpers/dev-addon';
import { log } from './targets';

export interface MicroRow {
  name: string;
  tsPerSec: number;
  nativePerSec: number | null;
}

/** 10,000 pipelined requests of a realistic mix, as one buffer. */
function requestBuffer(): { buf: Buffer; requests: number } {
  const parts: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const k = `key:${(i * 7919) % 100_000}`;
    switch (i % 10) {
      case 0: parts.push(`set ${k} 0 0 100\r\n${'v'.repeat(100)}\r\n`); break;
      case 1: parts.push(`get ${k} key:1 key:2 key:3 key:4 key:5 key:6 key:7 key:8 key:9\r\n`); break;
      case 2: parts.push(`incr ${k} 1\r\n`); break;
      case 3: parts.push(`delete ${k} noreply\r\n`); break;
      default: parts.push(`get ${k}\r\n`);
    }
  }
  return { buf: Buffer.from(parts.join(''), 'latin1'), requests: 10_000 };
}

function tsParseLines(buf: Buffer): number {
  let count = 0;
  let off = 0;
  while (off < buf.length) {
    const nl = buf.indexOf(10, off);
    if (nl < 0) break;
    const end = nl - off > 1 && buf[nl - 1] === 13 ? nl - 1 : nl;
    const req = parseRequest(buf, off, end);
    count++;
    off = nl + 1;
    if (req.kind === 'store') off += req.bytes + 2;
  }
  return count;
}

/** The same 90/10 get/set mix as the addon's storeOps, on the TypeScript store. */
function tsStoreOps(store: Store, clock: VersionClock, ops: number, keys: number, valueSize: number): number {
  let hits = 0;
  let x = 2463534242;
  const data = Buffer.from('v'.repeat(valueSize) + '\r\n', 'latin1');
  for (let i = 0; i < ops; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const key = `key:${x % keys}`;
    if (i % 10 !== 0) {
      if (store.get(key, 0)) hits++;
      continue;
    }
    const copy = Buffer.allocUnsafeSlow(data.length);
    data.copy(copy);
    store.put(new Item(key, 0, 0, copy, clock.next(), 1, 0), 0);
  }
  return hits;
}

function hz(fn: () => void): number {
  let result = 0;
  new Benchmark('x', fn, { maxTime: 2, minSamples: 5 }).on('complete', function (this: Benchmark) {
    result = this.hz;
  }).run();
  return result;
}

/** benchmark.js: requests parsed and store operations per second, TypeScript vs C++. */
export function microBenchmarks(addon: DevAddon | null): MicroRow[] {
  const { buf, requests } = requestBuffer();
  const rows: MicroRow[] = [];
  log('micro: parser (10,000 pipelined requests per call)');
  rows.push({
    name: 'parser: requests/s',
    tsPerSec: hz(() => tsParseLines(buf)) * requests,
    nativePerSec: addon ? hz(() => addon.bench.parseLines(buf)) * requests : null,
  });
  log('micro: store (10,000 operations per call, 90% get, 100,000 keys, 100-byte values)');
  const store = new Store(Number.MAX_SAFE_INTEGER, true);
  const clock = new VersionClock();
  rows.push({
    name: 'store: operations/s',
    tsPerSec: hz(() => tsStoreOps(store, clock, 10_000, 100_000, 100)) * 10_000,
    nativePerSec: addon ? hz(() => addon.bench.storeOps(10_000, 100_000, 100)) * 10_000 : null,
  });
  return rows;
}
