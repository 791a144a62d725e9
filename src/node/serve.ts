import { writeFileSync } from 'node:fs';
import { readPasswordFile, type CredentialKind } from '../config/password-file';
import { parseServeArgs } from '../config/serve-args';
import type { MetricsSettings } from '../config/metrics-settings';
import type { Settings } from '../config/settings';
import { createEngine } from '../engine/select';
import type { Engine } from '../engine/engine';
import { Logger } from '../log';
import { MetricsServer } from '../metrics/metrics-server';
import { renderNodeMetrics } from '../metrics/node-metrics';
import { Replicator } from '../replication/replicator';
import { StartupError } from '../startup-error';
import { PACKAGE_VERSION } from '../version';
import { removeQuietly, runService } from './daemon';
import { accountToSwitchTo, switchTo } from './privileges';
import { SERVE_HELP } from './serve-help';

/** `memcache-ha-native serve`: parse flags, start the engine, own the lifecycle. */
export async function runServe(argv: readonly string[]): Promise<void> {
  const cmd = parseServeArgs(argv);
  if (cmd.kind === 'help') return void process.stdout.write(SERVE_HELP);
  if (cmd.kind === 'version') return void process.stdout.write(`memcache-ha-native ${PACKAGE_VERSION}\n`);
  await runService('serve', argv, cmd.settings, cmd.warnings, (log) => startNode(cmd.settings, log));
}

type CredentialFile = readonly [kind: CredentialKind, option: string, path: string];

function credentialFiles(s: Settings): CredentialFile[] {
  const files: CredentialFile[] = [];
  if (s.sasl && s.saslPwdb !== null) files.push(['sasl', 'SASL password file', s.saslPwdb]);
  if (s.asciiAuth && s.authFile !== null) files.push(['ascii', '-Y', s.authFile]);
  return files;
}

/** SIGHUP: the password files are read again; one that cannot be read keeps the users it had. */
function reloadCredentials(files: readonly CredentialFile[], engine: Engine, log: Logger): void {
  for (const [kind, option, path] of files) {
    try {
      const users = readPasswordFile(path, kind);
      engine.setCredentials(kind, users);
      log.info(`${option} ${path} re-read (SIGHUP): ${users.length} users`);
    } catch (err) {
      log.warn(`${option}: ${(err as Error).message}; the users read before stay`);
    }
  }
}

async function startNode(settings: Settings, log: Logger): Promise<string> {
  let stopping = false;
  let engine: Engine | null = null;
  let replicator: Replicator | null = null;
  let metrics: MetricsServer | null = null;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    replicator?.stop();
    await metrics?.close();
    await engine?.stop();
    if (settings.pidFile) removeQuietly(settings.pidFile);
    log.info('stopped');
    process.exit(0);
  };
  const account = settings.user ? accountToSwitchTo(settings.user) : null;
  const chosen = createEngine(settings, { log, requestShutdown: (graceful) => void stop(graceful ? 'shutdown graceful' : 'shutdown') });
  engine = chosen.engine;
  const files = credentialFiles(settings);
  for (const [kind, option, path] of files) {
    try {
      engine.setCredentials(kind, readPasswordFile(path, kind));
    } catch (err) {
      throw new StartupError(`${option}: ${(err as Error).message}`);
    }
  }
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
  if (settings.metrics) metrics = await startMetrics(settings.metrics, engine, replicator, log);
  if (settings.pidFile) writeFileSync(settings.pidFile, `${process.pid}\n`);
  if (account) switchTo(account);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));
  if (files.length > 0) process.on('SIGHUP', () => reloadCredentials(files, engine!, log));
  log.info(`listening on ${address.host}:${address.port} (engine ${engine.name}, -m ${settings.maxBytes / 1048576} MB, -c ${settings.maxConnections})`);
  const shown = metrics ? ` metrics=${metrics.address}` : '';
  return `memcache-ha-native: listening on ${address.host}:${address.port} engine=${engine.name} pid=${process.pid}${shown} (${chosen.why})`;
}

/** --metrics-port: /metrics from the engine's `stats` and the replicator's view, at each scrape. */
async function startMetrics(m: MetricsSettings, engine: Engine, replicator: Replicator | null, log: Logger): Promise<MetricsServer> {
  const render = (): string =>
    renderNodeMetrics({
      stats: () => new Map(engine.stats('') ?? []),
      replication: () => replicator?.view() ?? null,
    });
  const server = await MetricsServer.start(m.listen, m.port, render, log).catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(`--metrics-port: failed to listen on ${m.listen}:${m.port}: ${err.code ?? err.message}`);
  });
  log.info(`metrics on ${server.address}`);
  return server;
}
