import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Opcode } from '../../../src/protocol/binary';
import { CasNormaliser, describe, splitResponses } from '../../helpers/binary-packets';
import { Random } from '../../helpers/random';
import { BinaryGenerator, type BinaryPacket } from './binary-generator';
import { seeds, type DifferentialTarget } from './runner';

/**
 * The seeded differential test over the binary protocol: random packet sequences (malformed
 * ones included) sent to memcached and to the target over several connections, in batches of
 * one write; each batch's answer must be the same bytes once CAS values are numbered by first
 * sight, and both servers must close (or not) alike. A batch that ends well ends with a noop
 * whose reply marks the end of its answer; one that ends in a malformed packet is read until
 * the server closes or goes quiet, and its connection is replaced. DIFF_SEEDS and
 * DIFF_COMMANDS replay or resize a run, as for the text test (runner.ts).
 */
export interface BinaryDifferentialOptions {
  title: string;
  start(): Promise<DifferentialTarget>;
}

const CONNECTIONS = 3;
/** Packets per seed: fewer than the text test's commands, as a binary batch holds more of them. */
const COMMANDS = Number(process.env.DIFF_COMMANDS ?? 4000);
/** Below memcached's 16 KB read buffer, so a batch is one read event on both servers (but for a value over -I, last in its batch). */
const BATCH_BYTES = 12 * 1024;
const MARKER_OPAQUE = 0xfffffff0;
const IDLE_MS = 150;

/** One client connection that collects what it is sent. */
class Conn {
  private buf = Buffer.alloc(0);
  closed = false;
  /**
   * The server reset the connection: it closed with input unread (memcached stops reading at a
   * packet it refuses), so the kernel sent a reset, which may drop replies written just before.
   */
  reset = false;
  private lastData = Date.now();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.lastData = Date.now();
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.reset = true;
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.setNoDelay(true);
        resolve(new Conn(s));
      });
      s.once('error', reject);
    });
  }

  /** Sends a batch; resolves with everything received until `done(bytes)`, a close, or (when `idle`) quiet. */
  async exchange(bytes: Buffer, done: (b: Buffer) => boolean, idle: boolean): Promise<Buffer> {
    this.buf = Buffer.alloc(0);
    this.socket.write(bytes);
    this.lastData = Date.now();
    const deadline = Date.now() + 20_000;
    while (!this.closed && !done(this.buf) && !(idle && Date.now() - this.lastData >= IDLE_MS)) {
      if (Date.now() > deadline) throw new Error(`no end of the batch's replies; got:\n${describe(this.buf)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.buf;
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Side {
  name: string;
  port: number;
  conns: Conn[];
  norm: CasNormaliser;
  /** Each key's CAS as this server last showed it. */
  lastCas: Map<string, bigint>;
}

const markerSeen = (b: Buffer): boolean => {
  const { packets, rest } = splitResponses(b);
  const last = packets[packets.length - 1];
  return rest === 0 && last !== undefined && last.opcode === Opcode.Noop && last.opaque === MARKER_OPAQUE;
};

export function binaryDifferentialSuite(o: BinaryDifferentialOptions): void {
  const test = suite(o.title);
  let running: DifferentialTarget | null = null;
  let sides: Side[] = [];
  test.before(async () => {
    running = await o.start();
    sides = [
      { name: 'memcached', port: running.oracle.port, conns: [], norm: new CasNormaliser(), lastCas: new Map() },
      { name: running.name, port: running.target.port, conns: [], norm: new CasNormaliser(), lastCas: new Map() },
    ];
  });
  test.after(async () => {
    for (const s of sides) for (const c of s.conns) c.close();
    await running?.stop();
  });
  for (const seed of seeds) test(`seed ${seed}: ${COMMANDS} packets`, () => runSeed(seed, sides));
  test.run();
}

async function runSeed(seed: number, sides: Side[]): Promise<void> {
  const r = new Random(seed);
  const gen = new BinaryGenerator(r, `s${seed}:`);
  for (const s of sides) {
    for (const c of s.conns) c.close();
    s.conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => Conn.open(s.port)));
    s.norm = new CasNormaliser();
    s.lastCas = new Map();
    await s.conns[0]!.exchange(Buffer.concat([Buffer.from([0x80, Opcode.Flush, ...Array(22).fill(0)]), gen.marker()]), markerSeen, false);
  }
  const dumpable: Array<[number, number, string]> = [];
  let sent = 0;
  let batchNo = 0;
  while (sent < COMMANDS) {
    const slot = r.int(0, CONNECTIONS - 1);
    const size = r.weighted([[50, r.int(1, 5)], [40, r.int(6, 30)], [10, r.int(31, 60)]]);
    const batch: BinaryPacket[] = [];
    let bytes = 0;
    while (batch.length < size && sent < COMMANDS && bytes < BATCH_BYTES) {
      const p = gen.next();
      batch.push(p);
      sent++;
      bytes += p.bytes(() => 0n).length;
      if (p.ends !== 'ok') break;
    }
    const last = batch[batch.length - 1]!.ends;
    const ending = last === 'last' ? 'ok' : last;
    const outs = await Promise.all(sides.map(async (s, i) => {
      const casOf = (key: string): bigint => s.lastCas.get(key) ?? 1n;
      const parts = batch.map((p) => p.bytes(casOf));
      if (ending === 'ok') parts.push(gen.marker());
      const out = Buffer.concat(parts);
      dumpable.push([i, slot, out.toString('base64')]);
      const got = await s.conns[slot]!.exchange(out, ending === 'ok' ? markerSeen : () => false, ending !== 'ok');
      const { closed, reset } = s.conns[slot]!;
      learnCas(s, batch, got);
      if (ending !== 'ok') {
        s.conns[slot]!.close();
        s.conns[slot] = await Conn.open(s.port);
      }
      return { bytes: s.norm.normalise(got), closed, reset };
    }));
    const [a, b] = outs as [Outcome, Outcome];
    if (!sameOutcome(a, b)) {
      if (process.env.DIFF_DUMP) writeFileSync(process.env.DIFF_DUMP, JSON.stringify(dumpable));
      const pa = splitResponses(a.bytes).packets;
      const pb = splitResponses(b.bytes).packets;
      let i = 0;
      while (i < pa.length && i < pb.length && pa[i]!.raw.equals(pb[i]!.raw)) i++;
      const from = (ps: typeof pa): string => describe(Buffer.concat(ps.slice(Math.max(0, i - 3)).map((p) => p.raw)));
      assert.unreachable(
        `seed ${seed} (replay: DIFF_SEEDS=${seed}), batch ${batchNo} on connection ${slot} (${batch.length} packets, ending ${ending}): reply #${i} differs\n` +
          `memcached (closed ${a.closed}):\n${from(pa)}\nours (closed ${b.closed}):\n${from(pb)}\n` +
          `batch (memcached's bytes, base64): ${dumpable[dumpable.length - 2]![2].slice(0, 3000)}`,
      );
    }
    batchNo++;
  }
  assert.ok(batchNo > 0, 'sent at least one batch');
}

interface Outcome {
  bytes: Buffer;
  closed: boolean;
  reset: boolean;
}

/**
 * The same bytes and the same close; but where a side's connection was reset, what it sent last
 * may have been lost in the kernel (how much depends on the host's load), so its bytes need only
 * be a prefix of the other side's.
 */
function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.closed !== b.closed) return false;
  if (a.bytes.equals(b.bytes)) return true;
  const [short, long] = a.bytes.length <= b.bytes.length ? [a, b] : [b, a];
  return short.reset && long.bytes.subarray(0, short.bytes.length).equals(short.bytes);
}

/** Records each key's CAS from the replies of the packets that name one (matched by opaque). */
function learnCas(s: Side, batch: BinaryPacket[], got: Buffer): void {
  const byOpaque = new Map<number, string>();
  for (const p of batch) {
    if (p.key === null) continue;
    const b = p.bytes(() => 0n);
    byOpaque.set(b.readUInt32BE(12), p.key);
  }
  for (const p of splitResponses(got).packets) {
    const key = byOpaque.get(p.opaque);
    if (key !== undefined && p.status === 0 && p.cas !== 0n) s.lastCas.set(key, p.cas);
  }
}
