import net from 'node:net';
import { loadDevAddon } from '../test/helpers/dev-addon';
import { pipe } from './targets';
import { Zipf } from './zipf';

export type LoadProtocol = 'text' | 'meta' | 'binary';

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
  /** The classic commands (get, set), the meta ones (mg <key> v, ms) or binary get/set packets; text by default. */
  protocol?: LoadProtocol;
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

/**
 * Counts reply lines and hits (lines that start with 'V'). Every reply has one line that is not
 * part of a hit's value block; a text hit adds two (VALUE header and value before END), a meta
 * hit one (the value after its VA header). Values are 'v' bytes only, so counting newlines is
 * exact: replies = lines - linesPerHit * hits.
 */
function countLines(buf: Buffer): { lines: number; hits: number } {
  let lines = 0;
  let hits = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) {
    lines++;
    if (buf[i + 1] === 86 /* V */) hits++;
  }
  return { lines, hits };
}

/** Counts whole binary response packets (24-byte header, body length at bytes 8..11) across reads. */
class PacketCounter {
  private header = Buffer.alloc(24);
  private have = 0;
  private bodyLeft = 0;

  count(buf: Buffer): number {
    let packets = 0;
    let i = 0;
    while (i < buf.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, buf.length - i);
        i += skip;
        this.bodyLeft -= skip;
        if (this.bodyLeft === 0) packets++;
        continue;
      }
      this.header[this.have++] = buf[i++]!;
      if (this.have < 24) continue;
      this.have = 0;
      this.bodyLeft = this.header.readUInt32BE(8);
      if (this.bodyLeft === 0) packets++;
    }
    return packets;
  }
}

/** A binary request: magic 0x80, opcode, key length, extras length, body length; opaque and CAS 0. */
function binaryRequest(opcode: number, extras: Buffer, key: string, value: string): Buffer {
  const header = Buffer.alloc(24);
  header[0] = 0x80;
  header[1] = opcode;
  header.writeUInt16BE(key.length, 2);
  header[4] = extras.length;
  header.writeUInt32BE(extras.length + key.length + value.length, 8);
  return Buffer.concat([header, extras, Buffer.from(key + value, 'latin1')]);
}

const BINARY_GET = 0x00;
const BINARY_SET = 0x01;
/** A set's extras: flags 0, exptime 0. */
const SET_EXTRAS = Buffer.alloc(8);

/** A pool of pipelined request batches, built once so the generator spends its CPU on I/O. */
function batches(o: LoadOptions, connection: number): Buffer[] {
  const zipf = new Zipf(o.keys, 0.99, o.seed + connection);
  const value = 'v'.repeat(o.valueSize);
  let rnd = (o.seed * 7919 + connection) >>> 0;
  const out: Buffer[] = [];
  for (let b = 0; b < 64; b++) {
    let batch = '';
    const packets: Buffer[] = [];
    for (let i = 0; i < o.depth; i++) {
      const key = `key:${zipf.next()}`;
      rnd = (rnd * 1103515245 + 12345) >>> 0;
      const get = rnd / 4294967296 < o.getRatio;
      if (o.protocol === 'binary') packets.push(get ? binaryRequest(BINARY_GET, Buffer.alloc(0), key, '') : binaryRequest(BINARY_SET, SET_EXTRAS, key, value));
      else if (o.protocol === 'meta') batch += get ? `mg ${key} v\r\n` : `ms ${key} ${o.valueSize}\r\n${value}\r\n`;
      else batch += get ? `get ${key}\r\n` : `set ${key} 0 0 ${o.valueSize}\r\n${value}\r\n`;
    }
    out.push(o.protocol === 'binary' ? Buffer.concat(packets) : Buffer.from(batch, 'latin1'));
  }
  return out;
}

/**
 * Which load generator runs: the dev addon's (C++ on a worker thread, a few hundred ns of CPU per
 * request) when it loads, unless BENCH_LOADGEN=js; the JavaScript one otherwise. On a 2-core
 * host the generator's CPU is taken from the servers it measures, so the cheaper one is used.
 */
const nativeLoad = process.env.BENCH_LOADGEN === 'js' ? null : (loadDevAddon()?.bench.runLoad ?? null);
export const LOADGEN: 'native' | 'js' = nativeLoad ? 'native' : 'js';

/** Pipelined get/set load over several connections against one server, for a fixed time. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!nativeLoad) return runLoadJs(o);
  const pools = Array.from({ length: o.connections }, (_, ci) => batches(o, ci));
  const r = await nativeLoad(o.port, o.depth, o.durationMs, o.protocol ?? 'text', pools);
  return { ...r, opsPerSec: r.ops / r.seconds };
}

async function runLoadJs(o: LoadOptions): Promise<LoadResult> {
  const perHit = o.protocol === 'meta' ? 1 : 2;
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = Date.now() + o.durationMs;
  const rtts: number[] = [];
  let ops = 0;
  await Promise.all(Array.from({ length: o.connections }, (_, ci) => new Promise<void>((resolve, reject) => {
    const pool = batches(o, ci);
    const socket = net.connect(o.port, '127.0.0.1');
    socket.setNoDelay(true);
    let next = 0;
    let outstanding = 0;
    let sentAt = 0n;
    // A reply line may be split across reads; only the VALUE test looks one byte ahead.
    let carry = false;
    const packets = o.protocol === 'binary' ? new PacketCounter() : null;
    const send = () => {
      if (Date.now() >= deadline) {
        socket.end();
        return resolve();
      }
      outstanding = o.depth;
      sentAt = process.hrtime.bigint();
      socket.write(pool[next++ % pool.length]!);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      let done: number;
      if (packets) {
        done = packets.count(d);
      } else {
        const { lines, hits } = countLines(d);
        const hitAcross = carry && d[0] === 86 ? 1 : 0;
        carry = d[d.length - 1] === 10;
        done = lines - perHit * (hits + hitAcross);
      }
      outstanding -= done;
      ops += done;
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
