import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** A server under benchmark: our node on one engine, or the real memcached with one thread. */
export interface Target {
  name: string;
  start(port: number, memoryMb: number): ChildProcess;
}

const BIN = join(__dirname, '..', '..', 'bin', 'memcache-ha-native.js');

function node(engine: string): Target {
  return {
    name: engine,
    start: (port, mb) => spawn(process.execPath, [BIN, 'serve', '-p', String(port), '--engine', engine, '-m', String(mb)], { stdio: 'ignore' }),
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

/** native, ts and (when installed) memcached -t 1. */
export function availableTargets(nativeLoads: boolean): Target[] {
  const out: Target[] = [];
  if (nativeLoads) out.push(node('native'));
  out.push(node('ts'));
  if (onPath('memcached')) {
    out.push({
      name: 'memcached',
      start: (port, mb) => spawn('memcached', ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-t', '1', '-m', String(mb), '-u', 'root'], { stdio: 'ignore' }),
    });
  }
  return out;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function waitServing(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never answered`);
}

export interface Running {
  proc: ChildProcess;
  port: number;
}

export async function startTarget(t: Target, memoryMb: number): Promise<Running> {
  const port = await freePort();
  const proc = t.start(port, memoryMb);
  await waitServing(port);
  return { proc, port };
}

export function stopTarget(r: Running): Promise<void> {
  return new Promise((resolve) => {
    if (r.proc.exitCode !== null) return resolve();
    r.proc.once('exit', () => resolve());
    r.proc.kill('SIGKILL');
  });
}

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
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
