import { unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseServeArgs } from '../config/serve-args';
import type { Settings } from '../config/settings';
import { createEngine } from '../engine/select';
import type { Engine } from '../engine/engine';
import { Logger } from '../log';
import { Replicator } from '../replication/replicator';
import { StartupError } from '../startup-error';
import { PACKAGE_VERSION } from '../version';
import { DAEMON_CHILD_ENV, daemonize, reportToParent } from './daemon';
import { accountToSwitchTo, switchTo } from './privileges';
import { SERVE_HELP } from './serve-help';

/** `memcache-ha-native serve`: parse flags, start the engine, own the lifecycle. */
export async function runServe(argv: readonly string[]): Promise<void> {
  const cmd = parseServeArgs(argv);
  if (cmd.kind === 'help') return void process.stdout.write(SERVE_HELP);
  if (cmd.kind === 'version') return void process.stdout.write(`memcache-ha-native ${PACKAGE_VERSION}\n`);
  const { settings, warnings } = cmd;
  if (settings.pidFile) settings.pidFile = resolve(settings.pidFile);
  const isDaemonChild = process.env[DAEMON_CHILD_ENV] === '1';
  if (settings.daemonize && !isDaemonChild) {
    const absolute = settings.pidFile ? [...argv, '-P', settings.pidFile] : argv;
    process.stdout.write(`${await daemonize(['serve', ...absolute])}\n`);
    return;
  }
  const log = new Logger(settings.verbosity);
  for (const w of warnings) log.warn(w);
  try {
    const line = await startNode(settings, log);
    if (isDaemonChild) reportToParent({ type: 'ready', line });
    else process.stdout.write(`${line}\n`);
  } catch (err) {
    if (isDaemonChild) reportToParent({ type: 'error', message: (err as Error).message });
    throw err;
  }
}

async function startNode(settings: Settings, log: Logger): Promise<string> {
  let stopping = false;
  let engine: Engine | null = null;
  let replicator: Replicator | null = null;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    replicator?.stop();
    await engine?.stop();
    if (settings.pidFile) removePidFile(settings.pidFile);
    log.info('stopped');
    process.exit(0);
  };
  const account = settings.user ? accountToSwitchTo(settings.user) : null;
  const chosen = createEngine(settings, { log, requestShutdown: (graceful) => void stop(graceful ? 'shutdown graceful' : 'shutdown') });
  engine = chosen.engine;
  if (settings.replication) {
    if (!engine.replica) throw new StartupError(`replication is not available with engine ${engine.name}`);
    replicator = new Replicator(settings.replication, engine.replica, engine.nodeId, log, settings.itemSizeMax);
    await replicator.start().catch((err: Error) => {
      throw new StartupError(`replication: ${err.message}`);
    });
  }
  const address = await engine.start().catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(`failed to listen on ${settings.listen}:${settings.port}: ${err.code ?? err.message}`);
  });
  if (settings.pidFile) writeFileSync(settings.pidFile, `${process.pid}\n`);
  if (account) switchTo(account);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));
  log.info(`listening on ${address.host}:${address.port} (engine ${engine.name}, -m ${settings.maxBytes / 1048576} MB, -c ${settings.maxConnections})`);
  return `memcache-ha-native: listening on ${address.host}:${address.port} engine=${engine.name} pid=${process.pid} (${chosen.why})`;
}

function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}
