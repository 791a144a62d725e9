import { writeFileSync } from 'node:fs';
import { parseProxyArgs } from '../config/proxy-args';
import type { MetricsSettings } from '../config/metrics-settings';
import type { ProxySettings } from '../config/proxy-settings';
import type { Logger } from '../log';
import { MetricsServer } from '../metrics/metrics-server';
import { renderProxyMetrics } from '../metrics/proxy-metrics';
import { removeQuietly, runService } from '../node/daemon';
import { accountToSwitchTo, switchTo } from '../node/privileges';
import { StartupError } from '../startup-error';
import { PACKAGE_VERSION } from '../version';
import { chooseAddon } from '../engine/select';
import { Proxy, typeScriptOnly, type ReloadOutcome } from './proxy';
import { PROXY_HELP } from './proxy-help';

/** `memcache-ha-native proxy`: parse flags, start the router, own the lifecycle. */
export async function runProxy(argv: readonly string[]): Promise<void> {
  const cmd = parseProxyArgs(argv);
  if (cmd.kind === 'help') return void process.stdout.write(PROXY_HELP);
  if (cmd.kind === 'version') return void process.stdout.write(`memcache-ha-native ${PACKAGE_VERSION}\n`);
  await runService('proxy', argv, cmd.settings, cmd.warnings, (log) => startProxy(argv, cmd.settings, log));
}

/** A reload: the command line (so its -c file) read again; one that does not parse is refused whole. */
function reload(proxy: Proxy, argv: readonly string[], source: string): Promise<ReloadOutcome> {
  proxy.reloadCredentials();
  let cmd;
  try {
    cmd = parseProxyArgs(argv);
  } catch (err) {
    return Promise.resolve(proxy.refuseReload((err as Error).message));
  }
  if (cmd.kind !== 'run') return Promise.resolve(proxy.refuseReload('the command line asks for no proxy'));
  return proxy.reload(cmd.settings, source);
}

async function startProxy(argv: readonly string[], settings: ProxySettings, log: Logger): Promise<string> {
  const account = settings.user ? accountToSwitchTo(settings.user) : null;
  const chosen = chooseAddon(settings.engine, log);
  let proxy: Proxy;
  try {
    proxy = new Proxy(settings, log, chosen.addon);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const address = await proxy.start().catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(`failed to listen on ${settings.socketPath ?? `${settings.listen}:${settings.port}`}: ${err.code ?? err.message}`);
  });
  const metrics = settings.metrics ? await startMetrics(settings.metrics, proxy, log, (source) => reload(proxy, argv, source)) : null;
  if (settings.pidFile) writeFileSync(settings.pidFile, `${process.pid}\n`);
  if (account) switchTo(account);
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    await metrics?.close();
    await proxy.stop();
    if (settings.pidFile) removeQuietly(settings.pidFile);
    if (settings.socketPath) removeQuietly(settings.socketPath);
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));
  process.on('SIGHUP', () => void reload(proxy, argv, 'SIGHUP'));
  log.info(`proxy listening on ${address}, servers: ${proxy.nodes.map((n) => n.name).join(' ')}`);
  const engine = proxy.native ? 'native' : 'ts';
  const why = chosen.addon && !proxy.native ? typeScriptOnly(settings) : chosen.why;
  const shown = metrics ? ` metrics=${metrics.address}` : '';
  return `memcache-ha-native: proxy listening on ${address} engine=${engine} pid=${process.pid}${shown} (${proxy.nodes.length} servers; ${why})`;
}

async function startMetrics(m: MetricsSettings, proxy: Proxy, log: Logger, reload: (source: string) => Promise<ReloadOutcome>): Promise<MetricsServer> {
  const render = (): string => renderProxyMetrics(proxy.view(), proxy.backends());
  const server = await MetricsServer.start(m.listen, m.port, render, log, () => reload('POST /-/reload')).catch(
    (err: NodeJS.ErrnoException) => {
      throw new StartupError(`--metrics-port: failed to listen on ${m.listen}:${m.port}: ${err.code ?? err.message}`);
    },
  );
  log.info(`metrics on ${server.address}`);
  return server;
}
