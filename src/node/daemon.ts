import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { StartupError } from '../startup-error';

/** Set in the environment of the process that -d starts, so it does not daemonize again. */
export const DAEMON_CHILD_ENV = 'MEMCACHE_HA_NATIVE_DAEMON_CHILD';

export type DaemonMessage = { type: 'ready'; line: string } | { type: 'error'; message: string };

/**
 * memcached's -d: starts the same command detached from the terminal, waits until it listens
 * (or fails), prints what it printed, and returns so the caller can exit.
 */
export function daemonize(argv: readonly string[]): Promise<string> {
  const script = resolve(__dirname, '..', '..', '..', 'bin', 'memcache-ha-native.js');
  const child = spawn(process.execPath, [script, ...argv], {
    detached: true,
    cwd: '/',
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [DAEMON_CHILD_ENV]: '1' },
  });
  return new Promise((resolveReady, reject) => {
    child.once('exit', (code, signal) => reject(new StartupError(`the daemon exited during start-up (${signal ?? `status ${code}`})`)));
    child.once('error', (err) => reject(new StartupError(`could not start the daemon: ${err.message}`)));
    child.on('message', (m: DaemonMessage) => {
      child.removeAllListeners('exit');
      child.disconnect();
      child.unref();
      if (m.type === 'ready') resolveReady(m.line);
      else reject(new StartupError(m.message));
    });
  });
}

/** In the daemon: tells the waiting parent how start-up went. */
export function reportToParent(message: DaemonMessage): void {
  if (!process.send) return;
  process.send(message, () => process.disconnect?.());
}
