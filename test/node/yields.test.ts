import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packet, responses } from '../helpers/binary-wire';
import { RawClient } from '../helpers/client';
import { parseStats } from '../helpers/proc-stats';
import { Random } from '../helpers/random';
import { command } from '../helpers/replicas';
import { ENGINE, startMemcached, startNode, THREAD_ARGS, type RunningServer } from '../helpers/servers';

/**
 * -R (memcached's reqs_per_event): a connection runs at most that many commands per event,
 * then transmits, counts `conn_yields` and lets the other connections have their turn. The
 * oracle is memcached: the same pipelines, each sent in one write, must leave the same
 * conn_yields and the same replies, on one connection (so events carry over) and on fresh ones.
 */
const test = suite(`-R and conn_yields [${ENGINE}]`);

const SEEDS = process.env.YIELD_SEEDS ? process.env.YIELD_SEEDS.split(',').map(Number) : [1, 2, (Date.now() % 1e6) + 3];

/** Reply lines that end one command's answer; values are runs of 'x', so never one of these. */
const ENDS = /^(?:VERSION [^\r\n]*|STORED|END|TOUCHED|NOT_FOUND|MN|HD|DELETED)\r\n/gm;

interface Pipeline {
  text: string;
  answers: number;
}

/** Commands whose answers (or their absence, with noreply and q) are known before they run. */
function pipeline(rng: Random): Pipeline {
  let text = '';
  let answers = 0;
  const n = rng.int(1, 70);
  for (let i = 0; i < n; i++) {
    const k = `k${rng.int(0, 9)}`;
    const v = 'x'.repeat(rng.int(0, 20));
    switch (rng.int(0, 9)) {
      case 0: text += 'version\r\n'; answers++; break;
      case 1: text += `set ${k} 0 0 ${v.length}\r\n${v}\r\n`; answers++; break;
      case 2: text += `set ${k} 0 0 ${v.length} noreply\r\n${v}\r\n`; break;
      case 3: text += `get ${k}\r\n`; answers++; break;
      case 4: text += `get ${k} k${rng.int(0, 9)}\r\n`; answers++; break;
      case 5: text += 'mn\r\n'; answers++; break;
      case 6: text += `ms ${k} ${v.length} q\r\n${v}\r\n`; break;
      case 7: text += `ms ${k} ${v.length}\r\n${v}\r\n`; answers++; break;
      case 8: text += `delete ${k} noreply\r\n`; break;
      default: text += `touch ${k} 0\r\n`; answers++; break;
    }
  }
  // An answer last: once it is in, the server has run every command of the pipeline (a tail of
  // quiet ones could still be waiting for their turn when conn_yields is read).
  return { text: `${text}version\r\n`, answers: answers + 1 };
}

async function yields(port: number): Promise<number> {
  return Number(parseStats(await command(port, 'stats\r\n')).get('conn_yields') ?? NaN);
}

/** Sends each pipeline in one write and reads its answers; returns them and conn_yields after each. */
async function run(port: number, pipelines: readonly Pipeline[], fresh: boolean): Promise<{ replies: string[]; yields: number[] }> {
  const replies: string[] = [];
  const after: number[] = [];
  let c: RawClient | null = null;
  for (const p of pipelines) {
    if (!c || fresh) {
      c?.close();
      c = await RawClient.connect(port);
    }
    c.send(p.text);
    const r = await c.readUntil(`${p.answers} answers`, (b) => {
      const s = b.toString('latin1');
      let seen = 0;
      let end = 0;
      for (const m of s.matchAll(ENDS)) {
        seen++;
        end = m.index + m[0].length;
      }
      return seen === p.answers ? end : -1;
    });
    // The version strings differ; everything else is compared byte for byte.
    replies.push(r.toString('latin1').replace(/^VERSION [^\r\n]*/gm, 'VERSION'));
    after.push(await yields(port));
  }
  c?.close();
  return { replies, yields: after };
}

let node: RunningServer | undefined;
let oracle: RunningServer | undefined;
test.after.each(async () => {
  await node?.stop();
  await oracle?.stop();
  node = oracle = undefined;
});

for (const r of [null, 3, 1]) {
  const flags = r === null ? [] : ['-R', String(r)];
  for (const seed of SEEDS) {
    test(`seed ${seed}${r === null ? '' : `, -R ${r}`}: conn_yields and replies as memcached's, on one connection and on fresh ones`, async () => {
      [oracle, node] = await Promise.all([startMemcached(['-t', '1', ...flags]), startNode([...THREAD_ARGS, ...flags])]);
      const rng = new Random(seed);
      const pipelines = Array.from({ length: 25 }, () => pipeline(rng));
      for (const fresh of [false, true]) {
        // Only the deltas compare: the readiness probes left their own counts.
        const base = await Promise.all([yields(oracle.port), yields(node.port)]);
        const want = await run(oracle.port, pipelines, fresh);
        const got = await run(node.port, pipelines, fresh);
        for (let i = 0; i < pipelines.length; i++) {
          const where = `seed ${seed}, ${fresh ? 'fresh connections' : 'one connection'}, pipeline ${i} (${pipelines[i]!.text.length} bytes)`;
          assert.is(got.replies[i], want.replies[i], `${where}: replies`);
          assert.is(got.yields[i]! - base[1]!, want.yields[i]! - base[0]!, `${where}: conn_yields so far`);
        }
        if (r !== null || seed === SEEDS[0]) assert.ok(want.yields[pipelines.length - 1]! > base[0]!, `seed ${seed}: the pipelines made memcached yield`);
      }
    });
  }
}

test('binary: a pipeline of 45 requests yields as memcached does', async () => {
  [oracle, node] = await Promise.all([startMemcached(['-t', '1']), startNode(THREAD_ARGS)]);
  const VERSION = 0x0b;
  const SETQ = 0x11;
  const NOOP = 0x0a;
  const batches = [
    Buffer.concat(Array.from({ length: 45 }, (_, i) => packet(VERSION, { opaque: i }))),
    Buffer.concat([...Array.from({ length: 45 }, (_, i) => packet(SETQ, { key: `b${i}`, extras: Buffer.alloc(8), value: 'v' })), packet(NOOP)]),
  ];
  for (const [b, answers] of [[batches[0]!, 45], [batches[1]!, 1]] as const) {
    const deltas: number[] = [];
    for (const port of [oracle.port, node.port]) {
      const before = await yields(port);
      const c = await RawClient.connect(port);
      c.send(b);
      await c.readUntil(`${answers} binary answers`, (buf) => {
        const { packets, used } = responses(buf);
        return packets.length === answers ? used : -1;
      });
      c.close();
      deltas.push((await yields(port)) - before);
    }
    assert.is(deltas[1], deltas[0], `conn_yields after ${answers} answers: memcached ${deltas[0]}, ours ${deltas[1]}`);
    assert.ok(deltas[0]! > 0, 'memcached yielded');
  }
});

test('-R 1: 8,000 pipelined commands (140 KB, more than is read ahead while a connection waits for its turn) then the end of input are all answered, in order', async () => {
  node = await startNode([...THREAD_ARGS, '-R', '1']);
  const c = await RawClient.connect(node.port);
  let text = '';
  let want = '';
  for (let i = 0; i < 4000; i++) {
    text += `set y${i} 0 0 ${String(i).length}\r\n${i}\r\nget y${i}\r\n`;
    want += `STORED\r\nVALUE y${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`;
  }
  c.send(text);
  c.endInput();
  const got = await c.readToClose(10_000);
  assert.is(got.length, want.length, 'every reply arrived before the connection closed');
  assert.ok(got === want, 'in order');
  c.close();
  assert.ok((await yields(node.port)) >= 4000, 'each pair of commands yielded');
});

test('stats settings shows reqs_per_event', async () => {
  node = await startNode([...THREAD_ARGS, '-R', '7']);
  assert.match(await command(node.port, 'stats settings\r\n'), /^STAT reqs_per_event 7\r$/m);
});

test.run();
