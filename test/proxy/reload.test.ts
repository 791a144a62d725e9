import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient } from '../helpers/client';
import { httpRequest, metricsUrl, scrape, value } from '../helpers/metrics';
import { waitFor } from '../helpers/processes';
import { startProxy, type RunningProxy } from '../helpers/proxies';
import { parseStats } from '../helpers/proc-stats';
import { command } from '../helpers/replicas';
import { ENGINE, freePort, startMemcached, type RunningServer } from '../helpers/servers';

const test = suite(`proxy configuration reload [${ENGINE}]`);
let backends: RunningServer[] = [];
let proxy: RunningProxy | null = null;
test.after.each(async () => {
  await proxy?.stop();
  proxy = null;
  await Promise.all(backends.map((b) => b.stop()));
  backends = [];
});

const CONNECTIONS = 16;

/**
 * Clients that keep one request in flight each (a set, then a get of the key just set) until
 * stopped, counting what they sent and what came back: a reload must not close a connection
 * or leave a request without its reply, nor answer one with an error.
 */
class Load {
  sent = 0;
  replies = 0;
  errors: string[] = [];
  hits = 0;
  /**
   * Gets answered with an older value of the key: a key that moves back to a server it left
   * (added, then reweighted away again) finds what that server kept, as with any change of a
   * ketama ring (docs/operations.md). Counted, not an error.
   */
  stale = 0;
  private running = true;
  private readonly done: Promise<void>[];

  constructor(private readonly clients: RawClient[]) {
    this.done = clients.map((c, i) => this.loop(c, i));
  }

  static async start(port: number): Promise<Load> {
    return new Load(await Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(port))));
  }

  /** Gets that missed right after the connection's own set: a set and its get on either side of a routing change. */
  misses = 0;

  private async loop(c: RawClient, i: number): Promise<void> {
    try {
      await this.run(c, i);
    } catch (err) {
      // A connection closed or a reply that never came: recorded, and asserted on at the end.
      this.errors.push(`connection ${i}: ${(err as Error).message}`);
    }
  }

  private async run(c: RawClient, i: number): Promise<void> {
    for (let n = 0; this.running; n++) {
      const key = `load:${i}:${n % 200}`;
      const v = `v${n}`;
      this.sent++;
      c.send(`set ${key} 0 0 ${v.length}\r\n${v}\r\n`);
      const stored = await c.readUntilSuffix('\r\n', 5000);
      this.replies++;
      if (stored !== 'STORED\r\n') this.errors.push(`set ${key}: ${JSON.stringify(stored)}`);
      this.sent++;
      c.send(`get ${key}\r\n`);
      const got = await c.readUntilSuffix('END\r\n', 5000);
      this.replies++;
      if (got === `VALUE ${key} 0 ${v.length}\r\n${v}\r\nEND\r\n`) this.hits++;
      else if (/^VALUE \S+ 0 \d+\r\nv\d+\r\nEND\r\n$/.test(got) && got.startsWith(`VALUE ${key} `)) this.stale++;
      else if (got === 'END\r\n') this.misses++;
      else this.errors.push(`get ${key}: ${JSON.stringify(got)}`);
    }
  }

  async stop(): Promise<{ closed: number }> {
    this.running = false;
    await Promise.all(this.done);
    const closed = this.clients.filter((c) => c.isClosed).length;
    for (const c of this.clients) c.close();
    return { closed };
  }
}

async function proxyStats(port: number): Promise<Map<string, string>> {
  return parseStats(await command(port, 'stats proxy\r\n'));
}

/** The backends by address: their state and requests, from `stats proxy`. */
function backendsOf(stats: Map<string, string>): Map<string, { state: string; requests: number }> {
  const out = new Map<string, { state: string; requests: number }>();
  for (const [k, v] of stats) {
    const m = /^backend:(\d+):address$/.exec(k);
    if (m) out.set(v, { state: stats.get(`backend:${m[1]}:state`)!, requests: Number(stats.get(`backend:${m[1]}:requests`)) });
  }
  return out;
}

async function waitGeneration(port: number, generation: number): Promise<Map<string, string>> {
  return waitFor(`configuration generation ${generation}`, 10_000, async () => {
    const s = await proxyStats(port);
    return s.get('config_generation') === String(generation) ? s : undefined;
  });
}

const addr = (b: RunningServer, weight = 1): string => `127.0.0.1:${b.port}${weight === 1 ? '' : `:${weight}`}`;

test('SIGHUP under load: servers added, reweighted, removed, one unreachable, regrouped, one back; a bad file refused; no connection dropped, no request lost', async () => {
  backends = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  const [a, b, c] = backends as [RunningServer, RunningServer, RunningServer];
  const dir = mkdtempSync(join(tmpdir(), 'proxy-reload-'));
  const file = join(dir, 'proxy.yaml');
  const write = (servers: string[], extra = ''): void => writeFileSync(file, `servers:\n${servers.map((s) => `  - ${s}\n`).join('')}timeout_ms: 2000\n${extra}`);
  const connections = async (node: RunningServer): Promise<number> => Number(parseStats(await command(node.port, 'stats\r\n')).get('curr_connections'));
  const idle = await connections(b);
  write([addr(a), addr(b)]);
  proxy = await startProxy(['-c', file, '--probe-interval', '100', '-v']);
  const hup = (): boolean => proxy!.proc.child.kill('SIGHUP');
  const first = await proxyStats(proxy.port);
  assert.is(first.get('config_generation'), '1');
  const loadedAt = Number(first.get('config_loaded'));
  assert.ok(Math.abs(loadedAt - Date.now() / 1000) < 30, `config_loaded ${loadedAt}`);

  const load = await Load.start(proxy.port);
  const steady = async (): Promise<void> => {
    const at = load.replies;
    await waitFor('the load to go on', 10_000, () => (load.replies > at + 200 ? true : undefined));
  };
  await steady();
  const takesRequests = (server: string, what: string): Promise<true> =>
    waitFor(what, 10_000, async () => ((backendsOf(await proxyStats(proxy!.port)).get(server)?.requests ?? 0) > 50 ? true : undefined));

  // A server added: once probed it takes its share of the keys.
  write([addr(a), addr(b), addr(c)]);
  hup();
  await waitGeneration(proxy.port, 2);
  await takesRequests(addr(c), 'the new server to take requests');
  await steady();

  // Reweighted and one removed, with a new timeout.
  write([addr(a, 2), addr(c)], 'failure_limit: 3\n');
  hup();
  const third = await waitGeneration(proxy.port, 3);
  assert.equal([...backendsOf(third).keys()], [addr(a), addr(c)]);
  // The removed server: what was in flight on it finished, then the proxy closed its connections.
  await waitFor('the removed server to be let go', 10_000, async () => ((await connections(b)) === idle ? true : undefined));
  await steady();
  const settings = parseStats(await command(proxy.port, 'stats settings\r\n'));
  assert.is(settings.get('failure_limit'), '3');
  assert.is(settings.get('servers'), '2');

  // A file that does not parse: refused whole, with one line naming the problem.
  writeFileSync(file, 'servers: [127.0.0.1:1\ntimeout_ms: [\n');
  hup();
  await waitFor('the refusal', 10_000, () => (/reload refused/.test(proxy!.proc.stderr()) ? true : undefined));
  const refused = proxy.proc.stderr().split('\n').filter((l) => /reload refused/.test(l));
  assert.is(refused.length, 1, refused.join('\n'));
  assert.match(refused[0]!, /--config .*proxy\.yaml: .*; generation 3 keeps serving/);
  const after = await proxyStats(proxy.port);
  assert.is(after.get('config_generation'), '3');
  assert.is(after.get('config_reload_failures'), '1');
  // A server that parses but does not answer loads, and stays out, as it would at start-up.
  const nowhere = `127.0.0.1:${await freePort()}`;
  write([addr(a, 2), addr(c), nowhere]);
  hup();
  await waitGeneration(proxy.port, 4);
  await steady();
  await steady();
  const last = backendsOf(await proxyStats(proxy.port));
  assert.is(last.get(nowhere)?.state, 'out');
  assert.is(last.get(addr(c))?.state, 'up');

  // Regrouped: the two servers become one replica group (one shard, tried in order).
  write([`${addr(a)},${addr(c)}`]);
  hup();
  const grouped = await waitGeneration(proxy.port, 5);
  const shards = [...grouped].filter(([k]) => /^backend:\d+:shard$/.test(k)).map(([, v]) => v);
  assert.equal(shards, ['0', '0']);
  assert.is(parseStats(await command(proxy.port, 'stats settings\r\n')).get('servers'), '1');
  await steady();

  // The server removed at generation 3 (let go since) comes back: once probed it serves again.
  write([addr(a), addr(c), addr(b)]);
  hup();
  await waitGeneration(proxy.port, 6);
  await takesRequests(addr(b), 'the returning server to take requests');
  await steady();

  const { closed } = await load.stop();
  assert.is(closed, 0, 'no client connection closed');
  assert.equal(load.errors, [], 'every request answered, none with an error');
  assert.is(load.replies, load.sent);
  assert.ok(load.hits > load.replies / 4, `${load.hits} of ${load.replies / 2} gets hit`);
  // Only a set and its get that straddle a routing change can miss: one pair per connection per
  // change (6 reloads, and each new server's coming in).
  assert.ok(load.misses <= CONNECTIONS * 10, `${load.misses} gets missed the connection's own set`);
  console.log(`    ${load.sent} requests over ${CONNECTIONS} connections through 6 reloads: ${load.replies} replies, 0 errors, ${load.hits} hits, ${load.misses} misses, ${load.stale} older values`);
  const log = proxy.proc.stderr();
  assert.match(log, /configuration generation 2 loaded \(SIGHUP\): \+1 -0 servers, 0 reweighted, 3 shards/);
  assert.match(log, /configuration generation 3 loaded \(SIGHUP\): \+0 -1 servers, 1 reweighted, 2 shards/);
});

test('POST /-/reload on the metrics listener reloads and answers the outcome; the metrics show the generation', async () => {
  backends = await Promise.all([startMemcached(), startMemcached()]);
  const [a, b] = backends as [RunningServer, RunningServer];
  const dir = mkdtempSync(join(tmpdir(), 'proxy-reload-'));
  const file = join(dir, 'proxy.json');
  writeFileSync(file, JSON.stringify({ servers: [addr(a)] }));
  proxy = await startProxy(['-c', file, '--metrics-port', '0', '--probe-interval', '100']);
  const url = await metricsUrl(proxy.proc);
  const reloadUrl = url.replace(/\/metrics$/, '/-/reload');
  assert.is(value(await scrape(url), 'memcache_ha_proxy_config_generation'), 1);

  assert.is((await httpRequest(reloadUrl, 'GET')).status, 405);
  // A client limit changed too: only a restart changes it, and the answer says so.
  writeFileSync(file, JSON.stringify({ servers: [addr(a), addr(b)], max_clients: 100 }));
  const ok = await httpRequest(reloadUrl, 'POST');
  assert.is(ok.status, 200, ok.body);
  assert.match(ok.body, /^configuration generation 2 loaded \(POST \/-\/reload\): \+1 -0 servers, 0 reweighted, 2 shards; kept until a restart: max_clients\n$/);
  await waitFor('the new server to come in', 10_000, async () => (backendsOf(await proxyStats(proxy!.port)).get(addr(b))?.state === 'up' ? true : undefined));
  // Keys reach both servers now: each holds some of 200.
  const c = await RawClient.connect(proxy.port);
  let text = '';
  for (let i = 0; i < 200; i++) text += `set r${i} 0 0 1\r\nx\r\n`;
  // Acknowledged sets: a noreply one could still be on its way to a node when the proxy answers mn.
  assert.is(await c.call(text, 'STORED\r\n'.repeat(200)), 'STORED\r\n'.repeat(200));
  c.close();
  for (const node of [a, b]) {
    const items = Number(parseStats(await command(node.port, 'stats\r\n')).get('curr_items'));
    assert.ok(items > 20 && items < 180, `${items} of 200 keys on ${node.port}`);
  }

  // One that parses but could not be served (an empty replica group) is refused whole too.
  writeFileSync(file, JSON.stringify({ servers: [[addr(a)], []], timeout_ms: 3000 }));
  const empty = await httpRequest(reloadUrl, 'POST');
  assert.is(empty.status, 500);
  assert.match(empty.body, /servers: an empty replica group; generation 2 keeps serving/);
  assert.is(parseStats(await command(proxy.port, 'stats settings\r\n')).get('timeout_ms'), '1000', 'nothing of it applied');

  writeFileSync(file, '{"servers": ');
  const refused = await httpRequest(reloadUrl, 'POST');
  assert.is(refused.status, 500);
  assert.match(refused.body, /^reload refused: --config .*proxy\.json: .*; generation 2 keeps serving\n$/);
  const m = await scrape(url);
  assert.is(value(m, 'memcache_ha_proxy_config_generation'), 2);
  assert.is(value(m, 'memcache_ha_proxy_config_reload_failures_total'), 2);
  assert.ok(Math.abs(value(m, 'memcache_ha_proxy_config_loaded_timestamp_seconds') - Date.now() / 1000) < 30);
  assert.is(await command(proxy.port, 'get r1\r\n'), 'VALUE r1 0 1\r\nx\r\nEND\r\n', 'still serving');
});

test.run();
