import { spawn } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { LogFile, Logger } from '../log';
import { StartupError } from '../startup-error';

/** Set in the environment of the process that -d starts, so it does not daemonize again. */
export const DAEMON_CHILD_ENV = 'MEMCACHE_HA_NATIVE_DAEMON_CHILD';

export type DaemonMessage = { type: 'ready'; line: string } | { type: 'error'; message: string };

/**
 * memcached's -d: starts the same command detached from the terminal, waits until it listens
 * (or fails), prints what it printed, and returns so the caller can exit. Unlike memcached the
 * daemon stays in the caller's directory: a relative -c, -Y or --sasl-pwdb names the same file
 * at start-up and whenever SIGHUP re-reads it.
 */
export function daemonize(argv: readonly string[]): Promise<string> {
  const script = resolve(__dirname, '..', '..', '..', 'bin', 'memcache-ha-native.js');
  const child = spawn(process.execPath, [script, ...argv], {
    detached: true,
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

/** What `serve` and `proxy` share at start-up. */
export interface ServiceOptions {
  daemonize: boolean;
  pidFile: string | null;
  logFile: string | null;
  verbosity: number;
}

/**
 * Runs a service command: with -d, starts the same command detached and prints the listening
 * line it reports; otherwise runs `start` (which returns that line) and prints it, or, in the
 * daemon, reports it (or the failure) to the waiting parent.
 */
export async function runService(
  command: string,
  argv: readonly string[],
  options: ServiceOptions,
  warnings: readonly string[],
  start: (log: Logger) => Promise<string>,
): Promise<void> {
  if (options.pidFile) options.pidFile = resolve(options.pidFile);
  if (options.logFile) options.logFile = resolve(options.logFile);
  const isDaemonChild = process.env[DAEMON_CHILD_ENV] === '1';
  if (options.daemonize && !isDaemonChild) {
    const absolute = [...argv, ...(options.pidFile ? ['-P', options.pidFile] : []), ...(options.logFile ? ['--log-file', options.logFile] : [])];
    process.stdout.write(`${await daemonize([command, ...absolute])}\n`);
    return;
  }
  let file: LogFile | null = null;
  try {
    file = options.logFile ? new LogFile(options.logFile) : null;
  } catch (err) {
    const message = `--log-file ${options.logFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    if (isDaemonChild) reportToParent({ type: 'error', message });
    throw new StartupError(message);
  }
  const log = new Logger(options.verbosity, file);
  // SIGHUP (logrotate) reopens the log file; without one it is ignored rather than fatal.
  process.on('SIGHUP', () => {
    if (!file) return;
    file.reopen();
    log.info('log file reopened (SIGHUP)');
  });
  for (const w of warnings) log.warn(w);
  try {
    const line = await start(log);
    if (isDaemonChild) reportToParent({ type: 'ready', line });
    else process.stdout.write(`${line}\n`);
  } catch (err) {
    if (isDaemonChild) reportToParent({ type: 'error', message: (err as Error).message });
    throw err;
  }
}

/** Removes a file this process created (pid file, unix socket) on the way out; gone is fine. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}

/** In the daemon: tells the waiting parent how start-up went. */
export function reportToParent(message: DaemonMessage): void {
  if (!process.send) return;
  process.send(message, () => process.disconnect?.());
}
