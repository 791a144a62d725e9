import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE, startNode, type RunningServer } from '../../helpers/servers';

/**
 * libmemcached's memcapable (Debian's `memccapable`) with -b: its binary-protocol checks
 * against the node. libmemcached 1.1 runs 27 of them (the issue counted 28); all must pass.
 */
const test = suite(`memcapable -b [${ENGINE}]`);
let node: RunningServer | null = null;
test.after.each(async () => {
  await node?.stop();
  node = null;
});

/** Runs `memccapable -b` against a port; resolves with its exit status and output. */
export function memcapableBinary(port: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('memccapable', ['-b', '-h', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (err) => reject(new Error(`memccapable could not run (apt-get install libmemcached-tools): ${err.message}`)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Every `binary ...` line says [pass], there are 27 of them, and memcapable says so. */
export function assertAllBinaryPass(r: { code: number | null; out: string }): void {
  const checks = r.out.split('\n').filter((l) => /^binary /.test(l));
  assert.is(checks.length, 27, r.out);
  assert.equal(checks.filter((l) => !/\[pass\]\s*$/.test(l)), [], r.out);
  assert.match(r.out, /All tests passed/);
  assert.is(r.code, 0, r.out);
}

test('every binary check passes against the node', async () => {
  node = await startNode();
  assertAllBinaryPass(await memcapableBinary(node.port));
});

test.run();
