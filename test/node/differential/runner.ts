import { writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../../helpers/client';
import type { RunningServer } from '../../helpers/servers';
import { CommandGenerator, UNKNOWN_CAS, type Command, type GeneratorOptions } from './generator';
import { Random } from '../../helpers/random';
import { Normaliser, sameReply, splitReplies, type CasScope } from './replies';

/**
 * The seeded differential test: random command sequences, text and meta protocol mixed
 * (leases and stale marks across the connections included), sent to the real memcached and
 * to a target (our node, or our proxy over our nodes) over several connections; every
 * batch's replies must match byte for byte once CAS uniques and the version string are
 * normalised, but for the clock allowance of sameReply (replies.ts). DIFF_SEEDS=1,2 and
 * DIFF_COMMANDS=N replay or resize a run.
 */
export interface DifferentialTarget {
  name: string;
  oracle: RunningServer;
  target: RunningServer;
  stop(): Promise<void>;
}

export interface DifferentialOptions {
  title: string;
  start(): Promise<DifferentialTarget>;
  generator?: GeneratorOptions;
  /** How CAS uniques are numbered (see Normaliser). */
  casScope?: CasScope;
}

interface Side {
  name: string;
  server: RunningServer;
  clients: RawClient[];
  norm: Normaliser;
}

export function differentialSuite(o: DifferentialOptions): void {
  const test = suite(o.title);
  let sides: Side[] = [];
  let running: DifferentialTarget | null = null;
  const scope = o.casScope ?? 'server';

  test.before(async () => {
    running = await o.start();
    sides = [
      { name: 'memcached', server: running.oracle, clients: [], norm: new Normaliser(scope) },
      { name: running.name, server: running.target, clients: [], norm: new Normaliser(scope) },
    ];
  });

  test.after(async () => {
    for (const s of sides) for (const c of s.clients) c.close();
    await running?.stop();
  });

  for (const seed of seeds) {
    test(`seed ${seed}: ${COMMANDS} commands`, () => runSeed(seed, sides, o, scope));
  }
  test.run();
}

const FIXED_SEEDS = [1, 2, 3, 4, 5];
export const seeds = process.env.DIFF_SEEDS
  ? process.env.DIFF_SEEDS.split(',').map(Number)
  : [...FIXED_SEEDS, Math.floor(Math.random() * 2 ** 31)];
export const COMMANDS = Number(process.env.DIFF_COMMANDS ?? 10_000);
const CONNECTIONS = 3;
const BATCH_BYTES = 8 * 1024;


/**
 * Sends a batch followed by `mn` and reads replies up to that `MN` (counting the `mn`
 * commands the batch itself holds; value bytes never contain an "m").
 */
async function exchange(who: string, client: RawClient, batch: string): Promise<string[]> {
  client.send(batch + 'mn\r\n');
  const expected = 1 + (batch.match(/(?<=^|\n)mn\r\n/g)?.length ?? 0);
  let parsed: string[] = [];
  await client.readUntil(`${who}: the batch replies ending in the MN #${expected}`, (buf) => {
    const { replies, rest } = splitReplies(buf);
    if (rest !== 0 || replies[replies.length - 1] !== 'MN\r\n') return -1;
    if (replies.filter((x) => x === 'MN\r\n').length < expected) return -1;
    parsed = replies;
    return buf.length;
  }, 20_000);
  return parsed;
}

/** Indices that cut a batch into sub-batches of about BATCH_BYTES (large ones alone). */
function cutPoints(parts: string[]): number[] {
  const cuts = [0];
  let size = 0;
  parts.forEach((p, i) => {
    if (size > 0 && size + p.length > BATCH_BYTES) {
      cuts.push(i);
      size = 0;
    }
    size += p.length;
  });
  cuts.push(parts.length);
  return cuts;
}

function show(s: string, max = 600): string {
  const j = JSON.stringify(s);
  return j.length > max ? `${j.slice(0, max)}... (${s.length} bytes)` : j;
}

async function runSeed(seed: number, sides: Side[], o: DifferentialOptions, scope: CasScope): Promise<void> {
    const r = new Random(seed);
    const gen = new CommandGenerator(r, `s${seed}:`, o.generator);
    for (const s of sides) {
      for (const c of s.clients) c.close();
      s.clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(s.server.port)));
      s.norm = new Normaliser(scope);
      await exchange(s.name, s.clients[0]!, 'flush_all\r\n');
    }
    const history: string[] = [];
    const dumpable: Array<[number, number, string]> = [];
    let sent = 0;
    let batchNo = 0;
    while (sent < COMMANDS) {
      const conn = r.int(0, CONNECTIONS - 1);
      const commands: Command[] = [];
      const size = r.weighted([[50, r.int(1, 5)], [40, r.int(6, 30)], [10, r.int(31, 60)]]);
      gen.beginBatch();
      for (let i = 0; i < size && sent < COMMANDS; i++, sent++) commands.push(gen.next());
      const outs: string[][] = [];
      let shown = '';
      // Where a batch is cut is decided once, from the oracle's bytes, so both sides get the
      // same sub-batches (CAS uniques differ in length between the servers).
      let cuts: number[] | null = null;
      for (const s of sides) {
        const casOf = (key: string): string => s.norm.lastCas.get(key) ?? UNKNOWN_CAS;
        const parts = commands.map((c) => c(casOf));
        cuts ??= cutPoints(parts);
        const replies: string[] = [];
        for (let i = 0; i < cuts.length - 1; i++) {
          const sub = parts.slice(cuts[i], cuts[i + 1]).join('');
          dumpable.push([s === sides[0] ? 0 : 1, conn, sub]);
          try {
            replies.push(...(await exchange(s.name, s.clients[conn]!, sub)).map((x) => s.norm.normalise(x)));
          } catch (err) {
            if (process.env.DIFF_DUMP) writeFileSync(process.env.DIFF_DUMP, JSON.stringify(dumpable));
            throw new Error(`seed ${seed} (replay: DIFF_SEEDS=${seed}), batch ${batchNo}: ${(err as Error).message}\nbatch: ${show(sub, 1500)}`);
          }
        }
        outs.push(replies);
        if (s === sides[0]) shown = parts.join('');
      }
      history.push(shown);
      if (history.length > 3) history.shift();
      const [a, b] = outs as [string[], string[]];
      if (a.length !== b.length || a.some((x, j) => !sameReply(x, b[j]!))) {
        let i = 0;
        while (i < a.length && i < b.length && sameReply(a[i]!, b[i]!)) i++;
        if (process.env.DIFF_DUMP) writeFileSync(process.env.DIFF_DUMP, JSON.stringify(dumpable));
        const context = history.slice(0, -1).map((h) => `  ${show(h, 300)}`).join('\n');
        assert.unreachable(
          `seed ${seed} (replay: DIFF_SEEDS=${seed}), batch ${batchNo} on connection ${conn}, reply #${i} differs\n` +
            `earlier batches:\n${context}\nbatch: ${show(shown, 2000)}\n` +
            `memcached: ${show(a.slice(i, i + 4).join(''))}\nours:      ${show(b.slice(i, i + 4).join(''))}\n` +
            `memcached's last replies: ${show(a.slice(Math.max(0, i - 6)).join(''))}\nours:      ${show(b.slice(Math.max(0, i - 6)).join(''))}`,
        );
      }
      batchNo++;
    }
    assert.ok(batchNo > 0, 'sent at least one batch');
}
