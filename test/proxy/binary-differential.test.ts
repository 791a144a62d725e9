import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { counterExtras, storeExtras, u32, type Response } from '../helpers/binary-packets';
import { packet, responses } from '../helpers/binary-wire';
import { Opcode } from '../../src/protocol/binary';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { Random, seedsFrom } from '../helpers/random';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../helpers/servers';

/**
 * Seeded random binary-protocol sequences (every opcode, quiet forms, CAS, values over each
 * size limit, unknown opcodes with bodies memcached swallows, packets that make it close)
 * through a proxy over three memcached backends (and over two of our nodes), compared byte
 * for byte with one memcached:
 * CAS uniques are numbered per key, since each backend counts its own. As in the text
 * differential through the proxy, an incr or decr does not follow a read of its key in the
 * same batch (memcached pads a shorter number in place only when no reply holds the item,
 * which depends on where its transmits fall). BIN_DIFF_SEEDS=1,2 replays; BIN_DIFF_COMMANDS=N resizes.
 */
const SERVER_LIMIT = ['-I', '64k', '-o', 'slab_chunk_max=32768'];
const PROXY_LIMIT = 128 * 1024;
const COMMANDS = Number(process.env.BIN_DIFF_COMMANDS ?? 3000);
const CONNECTIONS = 2;
const FENCE = 0xfeedf00d;

const KEYS = ['a', 'b', 'c', 'num', 'num2', 'k e y', '\x00\xff\r\n', 'long'.repeat(60), 'x', 'y', 'z', 'w'];

/** One request, built for a side from that side's last CAS of each key; `closes`: memcached ends the connection after it. */
interface Generated {
  build(casOf: (key: string) => bigint): Buffer;
  key: string | null;
  closes: boolean;
}

class Generator {
  private opaque = 1;
  private readInBatch = new Set<string>();

  constructor(private readonly r: Random) {}

  beginBatch(): void {
    this.readInBatch.clear();
  }

  next(): Generated {
    const r = this.r;
    const key = r.pick(KEYS);
    const opaque = this.opaque++;
    const fixed = (b: Buffer, k: string | null = key): Generated => ({ build: () => b, key: k, closes: false });
    const value = (): string | Buffer => {
      const kind = r.int(0, 99);
      if (kind < 20) return String(r.int(0, 1_000_000));
      if (kind < 23) return Buffer.alloc(70_000, 118);
      if (kind < 25) return Buffer.alloc(200_000, 119);
      return 'v'.repeat(r.int(0, 40));
    };
    const cas = (): ((casOf: (k: string) => bigint) => bigint) => {
      const c = r.int(0, 9);
      return c < 7 ? () => 0n : c < 9 ? (casOf) => casOf(key) : () => 12345n;
    };
    const choice = r.int(0, 99);
    if (choice < 30) {
      this.readInBatch.add(key);
      const op = r.pick([Opcode.Get, Opcode.GetQ, Opcode.GetK, Opcode.GetKQ, Opcode.Gat, Opcode.GatQ, Opcode.GatK, Opcode.GatKQ, Opcode.Touch]);
      const touch = op === Opcode.Gat || op === Opcode.GatQ || op === Opcode.GatK || op === Opcode.GatKQ || op === Opcode.Touch;
      return fixed(packet(op, { key, opaque, extras: touch ? u32(r.pick([0, 100, 1000])) : undefined }));
    }
    if (choice < 60) {
      const op = r.pick([Opcode.Set, Opcode.SetQ, Opcode.Add, Opcode.AddQ, Opcode.Replace, Opcode.ReplaceQ]);
      const v = value();
      const c = cas();
      const flags = r.pick([0, 1, 0xffffffff]);
      return { build: (casOf) => packet(op, { key, opaque, extras: storeExtras(flags, r.pick([0, 1000])), value: v, cas: c(casOf) }), key, closes: false };
    }
    if (choice < 68) {
      const op = r.pick([Opcode.Append, Opcode.AppendQ, Opcode.Prepend, Opcode.PrependQ]);
      const v = value();
      const c = cas();
      return { build: (casOf) => packet(op, { key, opaque, value: v, cas: c(casOf) }), key, closes: false };
    }
    if (choice < 75) {
      const op = r.pick([Opcode.Delete, Opcode.DeleteQ]);
      const c = cas();
      return { build: (casOf) => packet(op, { key, opaque, cas: c(casOf) }), key, closes: false };
    }
    if (choice < 84 && !this.readInBatch.has(key)) {
      const op = r.pick([Opcode.Increment, Opcode.IncrementQ, Opcode.Decrement, Opcode.DecrementQ]);
      const extras = counterExtras(BigInt(r.pick([0, 1, 7, 1000, 2 ** 40])), BigInt(r.int(0, 100)), r.pick([0, 0xffffffff, 100]));
      const c = cas();
      return { build: (casOf) => packet(op, { key, opaque, extras, cas: c(casOf) }), key, closes: false };
    }
    if (choice < 88) return fixed(packet(Opcode.Noop, { opaque }), null);
    if (choice < 89) return fixed(packet(r.pick([Opcode.Flush, Opcode.FlushQ]), { opaque, extras: r.pick([undefined, u32(0)]) }), null);
    if (choice < 94) {
      // memcached answers "Unknown command" and swallows the body length again past the extras and key.
      const k = r.pick(['', 'abc']);
      const kind = r.int(0, 3);
      if (kind === 0) return fixed(Buffer.concat([packet(Opcode.Verbosity, { opaque, extras: u32(1) }), Buffer.alloc(4)]), null);
      if (kind === 1) return fixed(packet(Opcode.SaslListMechs, { opaque }), null);
      if (kind === 2) return fixed(packet(Opcode.SaslAuth, { key: 'PLAIN', value: '\0user\0pw', opaque }), null);
      return fixed(Buffer.concat([packet(r.pick([0x1f, 0x30, 0x50, 0xff]), { key: k, opaque }), Buffer.alloc(k.length, 0x80)]), null);
    }
    if (choice < 98) return fixed(packet(Opcode.Version, { opaque }), null);
    const closer = r.pick([
      packet(Opcode.Get, { key, opaque, extras: u32(0) }),
      packet(Opcode.Get, { key: 'k'.repeat(251), opaque }),
      packet(Opcode.Set, { key, opaque, extras: u32(0), value: 'v' }),
      packet(Opcode.Get, { key, opaque, bodylen: 0 }),
      packet(Opcode.Noop, { opaque, magic: 0x00 }),
      packet(Opcode.Quit, { opaque }),
      packet(Opcode.QuitQ, { opaque }),
      packet(Opcode.Noop, { opaque, bodylen: 4 }),
    ]);
    return { build: () => closer, key: null, closes: true };
  }
}

/** One side: its connections, the last CAS of each key, and its CAS uniques numbered per key. */
class Side {
  clients: RawClient[] = [];
  private readonly lastCas = new Map<string, bigint>();
  private readonly numbering = new Map<string, Map<bigint, number>>();

  constructor(readonly name: string, readonly port: number) {}

  casOf = (key: string): bigint => this.lastCas.get(key) ?? 0n;

  /** The response with its CAS numbered per key (`key`: the request's), and the key's last CAS noted. */
  normalise(res: Response, key: string | null): string {
    const raw = Buffer.from(res.raw);
    if (res.cas !== 0n && key !== null) {
      let m = this.numbering.get(key);
      if (!m) this.numbering.set(key, (m = new Map()));
      let n = m.get(res.cas);
      if (n === undefined) m.set(res.cas, (n = m.size + 1));
      raw.writeBigUInt64BE(BigInt(n), 16);
      this.lastCas.set(key, res.cas);
    }
    // The version string names each server.
    if (res.opcode === Opcode.Version && res.status === 0) return 'VERSION';
    return raw.toString('hex');
  }
}

/** Sends the batch (a noop after it, or a noop before a closer) and reads the responses up to the fence or the close. */
async function exchange(side: Side, conn: number, parts: Buffer[], closes: boolean): Promise<Response[]> {
  const c = side.clients[conn]!;
  c.send(Buffer.concat([...parts.slice(0, closes ? -1 : parts.length), packet(Opcode.Noop, { opaque: FENCE }), ...(closes ? parts.slice(-1) : [])]));
  if (closes) {
    const buf = Buffer.from(await c.readToClose(10_000), 'latin1');
    const { packets, used } = responses(buf);
    assert.is(used, buf.length, `${side.name}: a partial packet before the close`);
    side.clients[conn] = await RawClient.connect(side.port);
    return packets;
  }
  let out: Response[] = [];
  await c.readUntil(`${side.name}: the fencing noop`, (buf) => {
    const { packets, used } = responses(buf);
    const last = packets[packets.length - 1];
    if (used !== buf.length || !last || last.opcode !== Opcode.Noop || last.opaque !== FENCE) return -1;
    out = packets;
    return buf.length;
  }, 20_000);
  return out;
}

/** The differential through a proxy over the backends `start` gives, against one memcached. */
function binaryDifferential(title: string, start: () => Promise<RunningServer[]>): void {
  const test = suite(title);
  let backends: RunningServer[] = [];
  let oracle: RunningServer;
  let proxy: RunningProxy;
  test.before(async () => {
    backends = await start();
    oracle = await startMemcached(SERVER_LIMIT);
    proxy = await startProxy([...backends.flatMap((n) => ['-s', `127.0.0.1:${n.port}`]), '-I', String(PROXY_LIMIT), '--failure-limit', '1000']);
  });
  test.after(async () => {
    await proxy?.stop();
    await Promise.all([...backends.map((n) => n.stop()), oracle?.stop()]);
  });
  for (const seed of seedsFrom('BIN_DIFF_SEEDS', [1, 2, 3])) {
    test(`seed ${seed}: ${COMMANDS} binary requests`, () => runSeed(seed, oracle.port, proxy.port));
  }
  test.run();
}

async function runSeed(seed: number, oraclePort: number, proxyPort: number): Promise<void> {
  const r = new Random(seed);
  const gen = new Generator(r);
  const sides = [new Side('memcached', oraclePort), new Side('proxy', proxyPort)];
  for (const s of sides) {
    s.clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(s.port)));
    await exchange(s, 0, [packet(Opcode.Flush)], false);
  }
  let sent = 0;
  let batch = 0;
  while (sent < COMMANDS) {
    gen.beginBatch();
    const conn = r.int(0, CONNECTIONS - 1);
    const size = r.weighted([[50, r.int(1, 5)], [50, r.int(6, 40)]]);
    const reqs: Generated[] = [];
    for (let i = 0; i < size; i++) {
      const g = gen.next();
      reqs.push(g);
      sent++;
      if (g.closes) break;
    }
    const closes = reqs[reqs.length - 1]!.closes;
    const keyOfOpaque = (o: number, first: number): string | null => reqs[o - first]?.key ?? null;
    const first = packetOpaque(reqs[0]!.build(() => 0n));
    const outs: string[][] = [];
    for (const s of sides) {
      const parts = reqs.map((g) => g.build(s.casOf));
      const got = await exchange(s, conn, parts, closes);
      outs.push(got.map((res) => s.normalise(res, keyOfOpaque(res.opaque, first))));
    }
    assert.equal(outs[1], outs[0], `seed ${seed} (BIN_DIFF_SEEDS=${seed}), batch ${batch}: ${reqs.map((g) => g.build(() => 0n).subarray(0, 24).toString('hex')).join(' ')}`);
    batch++;
  }
  for (const s of sides) for (const c of s.clients) c.close();
}

/** The opaque of a built request packet. */
function packetOpaque(p: Buffer): number {
  return p.readUInt32BE(12);
}

binaryDifferential(`proxy binary differential over three memcached vs one [${ENGINE}]`, () => Promise.all([0, 1, 2].map(() => startMemcached(SERVER_LIMIT))));
binaryDifferential(`proxy binary differential over two nodes vs one memcached [${ENGINE}]`, () => Promise.all([0, 1].map(() => startNode(['-I', '64k']))));
