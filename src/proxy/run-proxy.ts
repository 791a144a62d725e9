import { unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseProxyArgs } from '../config/proxy-args';
import { Logger } from '../log';
import { DAEMON_CHILD_ENV, daemonize, reportToParent } from '../node/daemon';
import { accountToSwitchTo, switchTo } from '../node/privileges';
import { StartupError } from '../startup-error';
import { PACKAGE_VERSION } from '../version';
import type { EngineChoice } from '../config/settings';
import { loadAddon } from '../engine/native/addon';
import { NativeFramer } from './native-framer';
import { Proxy } from './proxy';
import { PROXY_HELP } from './proxy-help';

/** `memcache-ha-native proxy`: parse flags, start the router, own the lifecycle. */
export async function runProxy(argv: readonly string[]): Promise<void> {
  const cmd = parseProxyArgs(argv);
  if (cmd.kind === 'help') return void process.stdout.write(PROXY_HELP);
  if (cmd.kind === 'version') return void process.stdout.write(`memcache-ha-native ${PACKAGE_VERSION}\n`);
  const { settings, warnings } = cmd;
  if (settings.pidFile) settings.pidFile = resolve(settings.pidFile);
  const isDaemonChild = process.env[DAEMON_CHILD_ENV] === '1';
  if (settings.daemonize && !isDaemonChild) {
    const absolute = settings.pidFile ? [...argv, '-P', settings.pidFile] : argv;
    process.stdout.write(`${await daemonize(['proxy', ...absolute])}\n`);
    return;
  }
  const log = new Logger(settings.verbosity);
  for (const w of warnings) log.warn(w);
  const account = settings.user ? accountToSwitchTo(settings.user) : null;
  const framing = chooseFramer(settings.engine, settings.maxValue, log);
  const proxy = new Proxy(settings, log, framing.framer);
  try {
    const address = await proxy.start().catch((err: NodeJS.ErrnoException) => {
      throw new StartupError(`failed to listen on ${settings.socketPath ?? `${settings.listen}:${settings.port}`}: ${err.code ?? err.message}`);
    });
    if (settings.pidFile) writeFileSync(settings.pidFile, `${process.pid}\n`);
    if (account) switchTo(account);
    let stopping = false;
    const stop = async (why: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info(`stopping (${why})`);
      await proxy.stop();
      if (settings.pidFile) removeQuietly(settings.pidFile);
      if (settings.socketPath) removeQuietly(settings.socketPath);
      process.exit(0);
    };
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));
    const servers = proxy.nodes.map((n) => n.name).join(' ');
    log.info(`proxy listening on ${address}, servers: ${servers}`);
    const engine = proxy.framer ? 'native' : 'ts';
    const why = framing.framer && !proxy.framer ? 'the backup pool (-b) needs every key: TypeScript framing' : framing.why;
    const line = `memcache-ha-native: proxy listening on ${address} engine=${engine} pid=${process.pid} (${proxy.nodes.length} servers; ${why})`;
    if (isDaemonChild) reportToParent({ type: 'ready', line });
    else process.stdout.write(`${line}\n`);
  } catch (err) {
    if (isDaemonChild) reportToParent({ type: 'error', message: (err as Error).message });
    throw err;
  }
}

/** The addon's framer unless --engine ts, or it did not load (then --engine native fails). */
function chooseFramer(engine: EngineChoice, maxValue: number, log: Logger): { framer: NativeFramer | null; why: string } {
  if (engine === 'ts') return { framer: null, why: 'asked for with --engine ts' };
  const loaded = loadAddon();
  if (loaded.ok) return { framer: new NativeFramer(loaded.addon, maxValue), why: engine === 'native' ? 'asked for with --engine native' : 'the native addon loaded' };
  if (engine === 'native') throw new StartupError(`--engine native: the native addon did not load: ${loaded.reason}`);
  log.warn(`engine ts: the native addon did not load (${loaded.reason})`);
  return { framer: null, why: 'the native addon did not load' };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
