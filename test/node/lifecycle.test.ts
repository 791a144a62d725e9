import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE, REPO_ROOT, SANITIZER_ENV } from '../helpers/servers';

/**
 * Stopping an engine closes every handle it opened (listener, connections, timers, the
 * addon's event channel): Node then exits by itself, with a client still connected at stop.
 */
const test = suite(`engine lifecycle [${ENGINE}]`);
const dist = join(REPO_ROOT, 'dist', 'src');

const script = `
const net = require('node:net');
const { createEngine } = require(${JSON.stringify(join(dist, 'engine', 'select.js'))});
const { Logger } = require(${JSON.stringify(join(dist, 'log.js'))});
const { DEFAULT_SETTINGS } = require(${JSON.stringify(join(dist, 'config', 'settings.js'))});
(async () => {
  const { engine } = createEngine({ ...DEFAULT_SETTINGS, port: 0, engine: process.argv[1] }, { log: new Logger(0), requestShutdown() {} });
  const { port } = await engine.start();
  const c = net.connect(port, '127.0.0.1');
  await new Promise((r) => c.on('connect', r));
  c.write('set a 0 0 1\\r\\nx\\r\\nget a\\r\\n');
  await new Promise((r) => c.once('data', r));
  c.on('close', () => process.stdout.write('client saw the close\\n'));
  await engine.stop();
  process.stdout.write('stopped ' + engine.name + '\\n');
})();
`;

test('after stop() the process exits by itself', () => {
  const r = spawnSync(process.execPath, ['-e', script, ENGINE], { encoding: 'utf8', timeout: 15_000, env: SANITIZER_ENV });
  assert.is(r.signal, null, `timed out (something kept the loop alive): ${r.stdout} ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`stopped ${ENGINE}\\n`));
  assert.match(r.stdout, /client saw the close\n/);
});

test.run();
