import { spawn } from 'node:child_process';
import * as assert from 'uvu/assert';

/**
 * libmemcached's memcapable (Debian's `memccapable`, libmemcached-tools), the outside tool
 * clients' authors check a server with: its ascii (-a) or binary (-b) checks. libmemcached 1.1
 * runs 27 of each (issue 15 counted 28 binary ones); memcached 1.6.18 passes all 27 of both.
 */
export type MemcapableMode = 'ascii' | 'binary';

export interface MemcapableRun {
  code: number | null;
  out: string;
}

const CHECKS = 27;

/** Runs memcapable's checks of one protocol against a port; resolves with its exit status and output. */
export function memcapable(port: number, mode: MemcapableMode): Promise<MemcapableRun> {
  return new Promise((resolve, reject) => {
    const args = [mode === 'ascii' ? '-a' : '-b', '-h', '127.0.0.1', '-p', String(port)];
    const child = spawn('memccapable', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Every check line of the mode says [pass], there are 27 of them, and memcapable says so. */
export function assertAllPass(r: MemcapableRun, mode: MemcapableMode): void {
  const checks = r.out.split('\n').filter((l) => l.startsWith(`${mode} `));
  assert.is(checks.length, CHECKS, r.out);
  assert.equal(checks.filter((l) => !/\[pass\]\s*$/.test(l)), [], r.out);
  assert.match(r.out, /All tests passed/);
  assert.is(r.code, 0, r.out);
}
