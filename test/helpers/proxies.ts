import { spawnTracked, stopProcess, type Spawned } from './processes';
import { assertNoSanitizerReport, BIN, ENGINE, SANITIZER_ENV, waitListening } from './servers';
import { command } from './replicas';
import { parseStats } from './proc-stats';

export interface RunningProxy {
  port: number;
  proc: Spawned;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `memcache-ha-native proxy -p 0 ...` and waits for its listening line. */
export async function startProxy(args: readonly string[]): Promise<RunningProxy> {
  const proc = spawnTracked(process.execPath, [BIN, 'proxy', '-p', '0', '--engine', ENGINE, ...args], SANITIZER_ENV);
  const port = await waitListening(proc, 10_000);
  return {
    port,
    proc,
    stop: async (signal) => {
      await stopProcess(proc, signal);
      assertNoSanitizerReport(proc);
    },
  };
}

/** `stats proxy` as a map: backend:<i>:<field> -> value. */
export async function backendStats(port: number): Promise<Map<string, string>> {
  return parseStats(await command(port, 'stats proxy\r\n'));
}

/** The state (`up`/`out`) of backend `i` as the proxy sees it. */
export async function backendState(port: number, i: number): Promise<string | undefined> {
  return (await backendStats(port)).get(`backend:${i}:state`);
}
