import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../helpers/processes';
import { backendStats, startProxy, type RunningProxy } from '../helpers/proxies';
import { command } from '../helpers/replicas';
import { ENGINE, startNode, type RunningServer } from '../helpers/servers';

const test = suite(`proxy backup pool (-b) [${ENGINE}]`);
let main: RunningServer;
let backup: RunningServer;
let proxy: RunningProxy;
test.after.each(async () => {
  await proxy?.stop();
  await Promise.all([main?.stop('SIGKILL'), backup?.stop('SIGKILL')]);
});

const FAST = ['--timeout', '500', '--probe-interval', '100'];
const get = (port: number, key: string) => command(port, `get ${key}\r\n`);
const set = (port: number, key: string, value: string, extra = '') => command(port, `set ${key} 3 0 ${value.length}${extra}\r\n${value}\r\n`, extra ? '' : '\r\n');
const value = (key: string, v: string, flags = 3) => `VALUE ${key} ${flags} ${v.length}\r\n${v}\r\nEND\r\n`;

async function start(extra: string[] = []): Promise<void> {
  [main, backup] = await Promise.all([startNode(), startNode()]);
  proxy = await startProxy(['-s', `127.0.0.1:${main.port}`, '-b', `127.0.0.1:${backup.port}`, ...FAST, ...extra]);
}

/** Mirrors are sent after the main's reply: wait until the backup shows `want` for the key. */
async function backupHas(key: string, want: string): Promise<void> {
  let last = '';
  await waitFor(`the backup to answer ${JSON.stringify(want)} for ${key} (last ${JSON.stringify(last)})`, 5000, async () => {
    last = await get(backup.port, key);
    return last === want ? true : undefined;
  });
}

test('writes reach the backup only once the main took them, as what the main holds', async () => {
  await start();
  const p = proxy.port;
  assert.is(await set(p, 'k', 'one'), 'STORED\r\n');
  await backupHas('k', value('k', 'one'));
  // An add the main refuses is not replayed to the backup (magent's divergence).
  assert.is(await set(backup.port, 'k', 'backup-only'), 'STORED\r\n');
  assert.is(await command(p, 'add k 3 0 3\r\ntwo\r\n', '\r\n'), 'NOT_STORED\r\n');
  assert.is(await command(p, 'set fence 0 0 1\r\nx\r\n', '\r\n'), 'STORED\r\n');
  await backupHas('fence', value('fence', 'x', 0));
  assert.is(await get(backup.port, 'k'), value('k', 'backup-only'));
  // noreply writes arrive whole (magent cut the last 10 bytes).
  await set(p, 'quiet', 'a value of some length', ' noreply');
  await backupHas('quiet', value('quiet', 'a value of some length'));
  // incr, append: the backup drops its copy instead of applying the change a second time.
  assert.is(await set(p, 'n', '10'), 'STORED\r\n');
  await backupHas('n', value('n', '10'));
  assert.is(await command(p, 'incr n 5\r\n', '\r\n'), '15\r\n');
  await backupHas('n', 'END\r\n');
  assert.is(await set(p, 'ap', 'x'), 'STORED\r\n');
  await backupHas('ap', value('ap', 'x'));
  assert.is(await command(p, 'append ap 0 0 1\r\ny\r\n', '\r\n'), 'STORED\r\n');
  await backupHas('ap', 'END\r\n');
  // A delete is copied even when the main did not have the key.
  assert.is(await set(backup.port, 'stale', 'old'), 'STORED\r\n');
  assert.is(await command(p, 'delete stale\r\n', '\r\n'), 'NOT_FOUND\r\n');
  await backupHas('stale', 'END\r\n');
  assert.is((await backendStats(p)).get('backend:1:shard'), 'backup');
});

test('reads fall back to the backup when the main fails, and for misses while a restarted main refills', async () => {
  await start();
  const p = proxy.port;
  assert.is(await set(p, 'k', 'kept'), 'STORED\r\n');
  await backupHas('k', value('k', 'kept'));
  const port = main.port;
  await main.stop('SIGKILL');
  assert.is(await get(p, 'k'), value('k', 'kept'), 'served by the backup while the main is down');
  // The main comes back empty on the same port: its misses are asked of the backup.
  main = await startNode(['-p', String(port)]);
  await waitFor('the main to be back', 10_000, async () => ((await backendStats(p)).get('backend:0:state') === 'up' ? true : undefined));
  assert.is(await get(main.port, 'k'), 'END\r\n');
  assert.is(await get(p, 'k'), value('k', 'kept'));
  assert.is(await command(p, 'get nothing k nothing2\r\n'), value('k', 'kept'));
});

test('a miss from a main in sync is a miss: the backup is not asked', async () => {
  await start(['--warmup', '0']);
  assert.is(await set(backup.port, 'only-on-backup', 'b'), 'STORED\r\n');
  assert.is(await get(proxy.port, 'only-on-backup'), 'END\r\n');
});

test.run();
