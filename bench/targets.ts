import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { freePort, waitUntilServing } from '../test/helpers/servers';

/** A server under benchmark: our node on one engine, or the real memcached with one thread. */
export interface Target {
  name: string;
  start(port: number, memoryMb: number): ChildProcess;
}

const BIN = join(__dirname, '..', '..', 'bin', 'memcache-ha-native.js');

/** A node with `threads` worker threads (-t); named by its engine, with " -t N" past one. */
function node(engine: string, threads = 1): Target {
  return {
    name: threads === 1 ? engine : `${engine} -t ${threads}`,
    start: (port, mb) => spawn(process.execPath, [BIN, 'serve', '-p', String(port), '--engine', engine, '-t', String(threads), '-m', String(mb)], { stdio: 'ignore' }),
  };
}

function memcached(threads: number): Target {
  return {
    name: threads === 1 ? 'memcached' : `memcached -t ${threads}`,
    start: (port, mb) => spawn('memcached', ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-t', String(threads), '-m', String(mb), '-u', 'root'], { stdio: 'ignore' }),
  };
}

export function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** native and ts at -t 1, and (when installed) memcached -t 1. */
export function availableTargets(nativeLoads: boolean): Target[] {
  const out: Target[] = [];
  if (nativeLoads) out.push(node('native'));
  out.push(node('ts'));
  if (onPath('memcached')) out.push(memcached(1));
  return out;
}

/** The same at -t 2 (the TypeScript engine has one thread): thread scaling beside memcached's. */
export function threadedTargets(nativeLoads: boolean): Target[] {
  const out: Target[] = [];
  if (nativeLoads) out.push(node('native', 2));
  if (onPath('memcached')) out.push(memcached(2));
  return out;
}

/** The target a row compares with: memcached at the same thread count. */
export function memcachedPeer(target: string): string {
  const threads = / -t (\d+)$/.exec(target)?.[1];
  return threads ? `memcached -t ${threads}` : 'memcached';
}

export interface Running {
  proc: ChildProcess;
  port: number;
}

export async function startTarget(t: Target, memoryMb: number): Promise<Running> {
  const port = await freePort();
  const proc = t.start(port, memoryMb);
  await waitUntilServing(port);
  return { proc, port };
}

export function stopTarget(r: Running): Promise<void> {
  return new Promise((resolve) => {
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) return resolve();
    r.proc.once('exit', () => resolve());
    r.proc.kill('SIGKILL');
  });
}

export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Sends a request stream over one connection and resolves when `mn` comes back. */
export function pipe(port: number, chunks: Iterable<string>, onChunk?: (i: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', reject);
    let tail = '';
    socket.on('data', (d) => {
      tail = (tail + d.toString('latin1')).slice(-4);
      if (tail === 'MN\r\n') {
        socket.end();
        resolve();
      }
    });
    socket.on('connect', async () => {
      let i = 0;
      for (const chunk of chunks) {
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
        onChunk?.(i++);
      }
      socket.write('mn\r\n');
    });
  });
}
