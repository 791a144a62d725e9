import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../../helpers/client';
import { ENGINE, startMemcached, startNode, type RunningServer } from '../../helpers/servers';

/**
 * Leases across connections, against the node AND memcached 1.6.18: win tokens (W) go to one
 * client per item, the others see Z; stale marks (X) from md I and ms I; CAS tokens handed
 * from one reply to the next request (C). Each scenario runs on a fresh key on both servers.
 */
const test = suite(`meta leases over several connections [${ENGINE}]`);
const servers: Array<[string, RunningServer]> = [];

test.before(async () => {
  // The oracle first: a failure naming the node means memcached passed that scenario.
  servers.push(['memcached', await startMemcached()], ['node', await startNode()]);
});
test.after(async () => {
  for (const [, s] of servers) await s.stop();
});

type Say = (conn: number, request: string) => Promise<string>;

/** Runs `body` once per server with three connections; `say` returns a request's replies (up to an mn). */
function scenario(name: string, body: (say: Say, who: string) => Promise<void>): void {
  test(name, async () => {
    for (const [who, server] of servers) {
      const conns = await Promise.all([0, 1, 2].map(() => RawClient.connect(server.port)));
      try {
        const say: Say = async (i, request) => {
          const got = await conns[i]!.call(`${request}mn\r\n`, 'MN\r\n');
          return got.slice(0, -4);
        };
        assert.is(await say(0, 'flush_all\r\n'), 'OK\r\n');
        await body(say, who);
      } catch (err) {
        if (err instanceof Error) err.message = `${who}: ${err.message}`;
        throw err;
      } finally {
        for (const c of conns) c.close();
      }
    }
  });
}

function casIn(reply: string, re: RegExp): string {
  const m = re.exec(reply);
  assert.ok(m, `${JSON.stringify(reply)} matches ${re}`);
  return m![1]!;
}

scenario('a miss with N: one client wins the lease, the others see Z until the winner writes', async (say) => {
  const cas = casIn(await say(0, 'mg k N30 c v\r\n'), /^VA 0 c(\d+) W\r\n\r\n$/);
  assert.is(await say(1, 'mg k N30 v\r\n'), 'VA 0 Z\r\n\r\n');
  assert.is(await say(2, 'mg k N30 c\r\n'), `HD c${cas} Z\r\n`);
  assert.is(await say(0, 'mg k v\r\n'), 'VA 0 Z\r\n\r\n', 'the winner itself sees Z on a second read');
  assert.is(await say(0, `ms k 3 C${cas} T30\r\nabc\r\n`), 'HD\r\n');
  assert.is(await say(1, 'mg k N30 v\r\n'), 'VA 3\r\nabc\r\n', 'a fresh item carries no mark');
  assert.is(await say(1, `ms k 1 C${cas}\r\nx\r\n`), 'EX\r\n', 'a loser writing with the old CAS');
});

scenario('md I: the first reader of the stale item wins, an older write keeps it stale, a current one clears it', async (say) => {
  assert.is(await say(0, 'set k 0 0 3\r\nold\r\n'), 'STORED\r\n');
  const before = casIn(await say(0, 'gets k\r\n'), /^VALUE k 0 3 (\d+)\r\n/);
  assert.is(await say(0, 'md k I T30\r\n'), 'HD\r\n');
  const stale = casIn(await say(1, 'mg k c v\r\n'), /^VA 3 c(\d+) X W\r\nold\r\n$/);
  assert.not.equal(stale, before, 'md I gives the item a new CAS');
  assert.is(await say(2, 'mg k v\r\n'), 'VA 3 Z X\r\nold\r\n');
  // A writer that read before the invalidation: its CAS is older, I lets it store, still stale.
  assert.is(await say(0, `ms k 4 C${before} I\r\nlate\r\n`), 'HD\r\n');
  assert.match(await say(2, 'mg k v t\r\n'), /^VA 4 t(29|30) Z X\r\nlate\r\n$/);
  // Without I the same old CAS is refused.
  assert.is(await say(0, `ms k 4 C${before}\r\nlate\r\n`), 'EX\r\n');
  // The winner's CAS is now older too (the late write replaced the item).
  assert.is(await say(1, `ms k 3 C${stale}\r\nnew\r\n`), 'EX\r\n');
  const current = casIn(await say(1, 'mg k c\r\n'), /^HD c(\d+) Z X\r\n$/);
  assert.is(await say(1, `ms k 3 C${current} I\r\nnew\r\n`), 'HD\r\n', 'a matching CAS with I is a plain CAS store');
  assert.is(await say(2, 'mg k v\r\n'), 'VA 3\r\nnew\r\n');
});

scenario('md I twice: a second invalidation hands out a new win', async (say) => {
  assert.is(await say(0, 'set k 0 0 1\r\nx\r\n'), 'STORED\r\n');
  assert.is(await say(0, 'md k I\r\n'), 'HD\r\n');
  assert.is(await say(1, 'mg k\r\n'), 'HD X W\r\n');
  assert.is(await say(2, 'mg k\r\n'), 'HD Z X\r\n');
  assert.is(await say(0, 'md k I\r\n'), 'HD\r\n');
  assert.is(await say(2, 'mg k\r\n'), 'HD X W\r\n');
  assert.is(await say(1, 'mg k\r\n'), 'HD Z X\r\n');
});

scenario('R: recache wins go to one client while the TTL is below the token', async (say) => {
  assert.is(await say(0, 'ms k 1 T100\r\nx\r\n'), 'HD\r\n');
  assert.is(await say(1, 'mg k R30 v\r\n'), 'VA 1\r\nx\r\n');
  assert.is(await say(1, 'mg k R200 v\r\n'), 'VA 1 W\r\nx\r\n');
  assert.is(await say(2, 'mg k R200 v\r\n'), 'VA 1 Z\r\nx\r\n');
  assert.is(await say(0, 'mg k v\r\n'), 'VA 1 Z\r\nx\r\n');
  assert.is(await say(1, 'ms k 1 T100\r\ny\r\n'), 'HD\r\n');
  assert.is(await say(2, 'mg k R200 v\r\n'), 'VA 1 W\r\ny\r\n', 'the rewritten item has no token yet');
});

scenario('C tokens taken from one connection work on another (ms, ma, md)', async (say) => {
  const c1 = casIn(await say(0, 'ms k 1 c\r\n5\r\n'), /^HD c(\d+)\r\n$/);
  const c2 = casIn(await say(1, `ma k C${c1} D10 c v\r\n`), /^VA 2 c(\d+)\r\n15\r\n$/);
  assert.not.equal(c2, c1);
  assert.is(await say(2, `ma k C${c1}\r\n`), 'EX\r\n');
  assert.is(await say(2, `md k C${c1}\r\n`), 'EX\r\n');
  const c3 = casIn(await say(2, `ms k 2 C${c2} c\r\n16\r\n`), /^HD c(\d+)\r\n$/);
  assert.is(await say(0, `md k C${c2} q\r\n`), 'EX\r\n');
  assert.is(await say(0, `md k C${c3} q\r\n`), '');
  assert.is(await say(1, 'mg k\r\n'), 'EN\r\n');
});

scenario('text cas with the unique a meta reply showed, and the reverse', async (say) => {
  const c1 = casIn(await say(0, 'ms k 1 c\r\nx\r\n'), /^HD c(\d+)\r\n$/);
  assert.is(await say(1, `cas k 0 0 1 ${c1}\r\ny\r\n`), 'STORED\r\n');
  const c2 = casIn(await say(2, 'gets k\r\n'), /^VALUE k 0 1 (\d+)\r\ny\r\nEND\r\n$/);
  assert.is(await say(0, `ms k 1 C${c1}\r\nz\r\n`), 'EX\r\n');
  assert.is(await say(0, `ms k 1 C${c2}\r\nz\r\n`), 'HD\r\n');
});

test.run();
