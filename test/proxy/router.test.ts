import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Logger } from '../../src/log';
import { BackendNode, type NodeAddress } from '../../src/proxy/backend-node';
import { Batcher } from '../../src/proxy/batcher';
import { Ketama } from '../../src/proxy/ketama';
import { CANDIDATES, Router, type Shard } from '../../src/proxy/router';
import { forEachSeed, type Random } from '../helpers/random';

/**
 * Where the proxy sends a key, in process (no backend is ever connected): ketama over the
 * shards named by their first nodes, then within the home shard, its nodes' replication
 * peers, then the shards at the next ring points; nodes out and nodes already tried skipped.
 * Last, the C++ data path's routing table against pick().
 */
const test = suite('proxy router (unit)');

const log = new Logger(0);
const batcher = new Batcher();
const settings = { failureLimit: 2, timeoutMs: 1000, connectionsPerNode: 1, maxValue: 1024 * 1024, warmupMs: 0, credentials: null };

function backend(host: string, port = 11211, weight = 1): BackendNode {
  return new BackendNode({ host, port, weight }, `${host}:${port}`, settings, log, batcher);
}

const KEYS = Array.from({ length: 3000 }, (_, i) => `key:${i}:${(i * 7919) % 1000}`);
const pointOfKey = (router: Router, key: string) => router.pointOf(Ketama.hash(key));

test('with every node up, a key goes to the first node of the shard ketama names, as a client hashing over the first nodes agrees', () => {
  const addresses: NodeAddress[] = [
    { host: '10.0.0.1', port: 11211, weight: 1 }, { host: '10.0.0.2', port: 11300, weight: 2 }, { host: 'cache-c', port: 11211, weight: 1 },
  ];
  const shards: Shard[] = addresses.map((a, i) => ({ nodes: [new BackendNode(a, `n${i}`, settings, log, batcher), backend(`replica-of-${i}`)] }));
  const router = new Router(shards);
  const client = new Ketama(addresses);
  for (const key of KEYS) {
    const point = pointOfKey(router, key);
    const want = shards[client.memberOf(key)]!.nodes[0]!;
    assert.is(router.home(point), want, key);
    assert.is(router.pick(point, null), want, key);
  }
  // The second nodes do not move any key: the ring is the same as with one node a shard.
  const single = new Router(addresses.map((a, i) => ({ nodes: [new BackendNode(a, `s${i}`, settings, log, batcher)] })));
  for (const key of KEYS) assert.is(single.pointOf(Ketama.hash(key)), pointOfKey(router, key));
});

function twoShards() {
  const a1 = backend('a1');
  const a2 = backend('a2');
  const a3 = backend('a3');
  const b1 = backend('b1');
  const b2 = backend('b2');
  const router = new Router([{ nodes: [a1, a2, a3] }, { nodes: [b1, b2] }]);
  // A point of shard a.
  const point = Array.from({ length: 1000 }, (_, i) => i).find((p) => router.home(p) === a1)!;
  return { router, point, a1, a2, a3, b1, b2 };
}

test('within the home shard: its nodes in order, skipping nodes out and nodes tried', () => {
  const { router, point, a1, a2, a3, b1 } = twoShards();
  assert.is(router.pick(point, null), a1);
  assert.is(router.pick(point, []), a1);
  assert.is(router.pick(point, [a1]), a2, 'a1 failed this request');
  assert.is(router.pick(point, [a1, a2]), a3);
  assert.is(router.pick(point, [a2]), a1);
  a1.state = 'out';
  assert.is(router.pick(point, null), a2);
  assert.is(router.pick(point, [a2]), a3);
  a2.state = 'out';
  assert.is(router.pick(point, null), a3);
  a3.state = 'out';
  assert.is(router.pick(point, null), b1, 'the whole shard out: the next shard on the ring');
  assert.is(router.home(point), a1, 'home does not follow the states');
});

test('a shard with no node up: first the replication peers its nodes reported, then the next shard', () => {
  const { router, point, a1, a2, a3, b1, b2 } = twoShards();
  const elsewhere = backend('peer-host');
  a1.peer = elsewhere;
  a2.peer = b2;
  a1.state = a2.state = a3.state = 'out';
  assert.is(router.pick(point, null), elsewhere, "a1's peer first: it holds a1's keys");
  assert.is(router.pick(point, [elsewhere]), b2, "then a2's peer");
  elsewhere.state = 'out';
  assert.is(router.pick(point, null), b2);
  assert.is(router.pick(point, [b2]), b1, 'then the next shard, its nodes in order');
  assert.is(router.pick(point, [b2, b1]), null, 'nothing left');
  // A peer is asked only once the shard has no node up: a node up comes first.
  a3.state = 'up';
  assert.is(router.pick(point, null), a3);
});

test('the next shard is the one at the next ring points: a walk clockwise from the key', () => {
  const shards: Shard[] = Array.from({ length: 6 }, (_, i) => ({ nodes: [backend(`10.1.0.${i}`)] }));
  const router = new Router(shards);
  const ring = new Ketama(shards.map((s) => s.nodes[0]!.address));
  const down = new Set([0, 2, 3]);
  for (const i of down) shards[i]!.nodes[0]!.state = 'out';
  for (let point = 0; point < ring.size; point++) {
    let want: BackendNode | null = null;
    const home = ring.ownerAt(point);
    if (!down.has(home)) want = shards[home]!.nodes[0]!;
    for (let i = 1; want === null && i < ring.size; i++) {
      const owner = ring.ownerAt(point + i);
      if (!down.has(owner)) want = shards[owner]!.nodes[0]!;
    }
    assert.is(router.pick(point, null), want, `point ${point}`);
  }
  for (const s of shards) s.nodes[0]!.state = 'out';
  assert.is(router.pick(0, null), null, 'every node out');
});

test('hasStandIn: another node of its shard up, or its peer up', () => {
  const { router, a1, a2, a3, b1 } = twoShards();
  assert.ok(router.hasStandIn(a1));
  a2.state = a3.state = 'out';
  assert.not.ok(router.hasStandIn(a1));
  assert.ok(router.hasStandIn(a2), 'a1 is up');
  a1.peer = b1;
  assert.ok(router.hasStandIn(a1));
  b1.state = 'out';
  assert.not.ok(router.hasStandIn(a1));
  assert.ok(router.hasStandIn(b1), 'b2 is up');
});

function cluster(r: Random): { router: Router; nodes: BackendNode[]; shards: Shard[] } {
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
  return { router: new Router(shards), nodes, shards };
}

test('random clusters: pick() returns the first node up and not tried in the documented order, null only when there is none', () => {
  forEachSeed('ROUTER_SEEDS', (r) => {
    for (let round = 0; round < 200; round++) {
      const { router, nodes, shards } = cluster(r);
      const ring = new Ketama(shards.map((s) => s.nodes[0]!.address));
      for (let t = 0; t < 20; t++) {
        const point = r.int(0, ring.size - 1);
        const tried = nodes.filter(() => r.chance(0.2));
        const home = shards[ring.ownerAt(point)]!;
        const order = [...home.nodes, ...home.nodes.map((n) => n.peer)];
        for (let i = 1; i < ring.size; i++) order.push(...shards[ring.ownerAt(point + i)]!.nodes);
        const want = order.find((n) => n !== null && n.isUp && !tried.includes(n)) ?? null;
        assert.is(router.pick(point, tried.length ? tried : null)?.name ?? null, want?.name ?? null, `round ${round}, point ${point}, tried ${tried.map((n) => n.name)}`);
      }
    }
  });
});

/**
 * The C++ data path routes by the table Router.table() computes; the TypeScript path asks
 * Router.pick() per request. For random clusters (replica groups, peers, any nodes out) the
 * table must list, per ring point, exactly the nodes pick() returns when each failed attempt
 * is added to `tried`, in that order.
 */
test('per point, the routing table holds the nodes pick() tries, in its order', () => {
  forEachSeed('ROUTER_SEEDS', (r) => {
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
  }, [7]);
});

test.run();
