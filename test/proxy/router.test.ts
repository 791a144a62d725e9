import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../helpers/random';
import { Logger } from '../../src/log';
import { Batcher } from '../../src/proxy/batcher';
import { BackendNode } from '../../src/proxy/backend-node';
import { CANDIDATES, Router } from '../../src/proxy/router';

/**
 * The C++ data path routes by the table Router.table() computes; the TypeScript path asks
 * Router.pick() per request. For random clusters (replica groups, peers, any nodes out) the
 * table must list, per ring point, exactly the nodes pick() returns when each failed attempt
 * is added to `tried`, in that order.
 */
const test = suite('proxy routing table');

function cluster(r: Random): { router: Router; nodes: BackendNode[] } {
  const log = new Logger(0);
  const batcher = new Batcher();
  const settings = { failureLimit: 2, timeoutMs: 1000, connectionsPerNode: 1, maxValue: 1024 * 1024, warmupMs: 0 };
  const nodes: BackendNode[] = [];
  const shards = Array.from({ length: r.int(1, 6) }, (_, s) => ({
    nodes: Array.from({ length: r.int(1, 3) }, (_, i) => {
      const n = new BackendNode({ host: `10.0.${s}.${i}`, port: 11211, weight: r.int(1, 3) }, `n${s}.${i}`, settings, log, batcher);
      nodes.push(n);
      return n;
    }),
  }));
  for (const n of nodes) {
    if (r.chance(0.4)) n.state = 'out';
    if (r.chance(0.3)) n.peer = r.pick(nodes);
  }
  return { router: new Router(shards), nodes };
}

test('per point, the table holds the nodes pick() tries, in its order', () => {
  const r = new Random(Number(process.env.ROUTER_SEED ?? 7));
  for (let round = 0; round < 200; round++) {
    const { router, nodes } = cluster(r);
    const index = new Map(nodes.map((n, i) => [n, i]));
    const { values, candidates, home } = router.table(index);
    for (let point = 0; point < values.length; point++) {
      const tried: BackendNode[] = [];
      const want: number[] = [];
      for (let k = 0; k < CANDIDATES; k++) {
        const n = router.pick(point, tried.length === 0 ? null : tried);
        if (n === null) break;
        want.push(index.get(n)!);
        tried.push(n);
      }
      const got = Array.from(candidates.subarray(point * CANDIDATES, point * CANDIDATES + want.length));
      assert.equal(got, want, `round ${round}, point ${point}`);
      if (want.length < CANDIDATES) assert.is(candidates[point * CANDIDATES + want.length], -1, `round ${round}, point ${point}: padding`);
      assert.is(home[point], index.get(router.home(point))!);
    }
  }
});

test.run();
