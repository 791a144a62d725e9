import net from 'node:net';
import { pipe } from './targets';
import { Zipf } from './zipf';

export interface LoadOptions {
  port: number;
  connections: number;
  /** Requests in flight per connection (one pipelined batch). */
  depth: number;
  durationMs: number;
  keys: number;
  valueSize: number;
  getRatio: number;
  seed: number;
}

export interface LoadResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** Round-trip time of a pipelined batch, microseconds. */
  p50us: number;
  p99us: number;
  /** CPU seconds the load generator itself used. */
  clientCpu: number;
}

/** Counts complete replies in `buf` from `off`; returns [replies, bytes consumed]. */
function countReplies(buf: Buffer, off: number, valueSize: number): [number, number] {
  let n = 0;
  for (;;) {
    const nl = buf.indexOf(10, off);
    if (nl < 0) return [n, off];
    if (buf[off] === 86 /* V */) {
      const end = nl + 1 + valueSize + 2;
      if (end > buf.length) return [n, off];
      off = end;
      continue;
    }
    off = nl + 1;
    n++; // END, STORED or an error line ends one request's reply
  }
}

/** Pipelined get/set load over several connections against one server, for a fixed time. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const value = 'v'.repeat(o.valueSize);
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = Date.now() + o.durationMs;
  const rtts: number[] = [];
  let ops = 0;
  await Promise.all(Array.from({ length: o.connections }, (_, ci) => new Promise<void>((resolve, reject) => {
    const zipf = new Zipf(o.keys, 0.99, o.seed + ci);
    const socket = net.connect(o.port, '127.0.0.1');
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let outstanding = 0;
    let sentAt = 0n;
    let rnd = o.seed * 7919 + ci;
    const send = () => {
      if (Date.now() >= deadline) {
        socket.end();
        return resolve();
      }
      let batch = '';
      for (let i = 0; i < o.depth; i++) {
        const key = `key:${zipf.next()}`;
        rnd = (rnd * 1103515245 + 12345) >>> 0;
        batch += rnd / 4294967296 < o.getRatio ? `get ${key}\r\n` : `set ${key} 0 0 ${o.valueSize}\r\n${value}\r\n`;
      }
      outstanding = o.depth;
      sentAt = process.hrtime.bigint();
      socket.write(batch);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      const [n, used] = countReplies(pending, 0, o.valueSize);
      pending = pending.subarray(used);
      outstanding -= n;
      ops += n;
      if (outstanding <= 0) {
        rtts.push(Number(process.hrtime.bigint() - sentAt) / 1000);
        send();
      }
    });
  })));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  rtts.sort((a, b) => a - b);
  return {
    ops,
    seconds,
    opsPerSec: ops / seconds,
    p50us: rtts[Math.floor(rtts.length * 0.5)] ?? 0,
    p99us: rtts[Math.floor(rtts.length * 0.99)] ?? 0,
    clientCpu: (cpu.user + cpu.system) / 1e6,
  };
}

/** Stores every key once so gets hit. */
export function prefill(port: number, keys: number, valueSize: number): Promise<void> {
  const value = 'v'.repeat(valueSize);
  let batch = '';
  for (let k = 0; k < keys; k++) batch += `set key:${k} 0 0 ${valueSize} noreply\r\n${value}\r\n`;
  return pipe(port, [batch]);
}
