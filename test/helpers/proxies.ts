import { ENGINE, startCommand, type RunningServer } from './servers';
import { command } from './replicas';
import { parseStats } from './proc-stats';

export type RunningProxy = RunningServer;

/** Starts `memcache-ha-native proxy -p 0 ...` (framing of the engine under test) and waits for its listening line. */
export function startProxy(args: readonly string[]): Promise<RunningProxy> {
  return startCommand('proxy', ['--engine', ENGINE, ...args]);
}

/** `stats proxy` as a map: backend:<i>:<field> -> value. */
export async function backendStats(port: number): Promise<Map<string, string>> {
  return parseStats(await command(port, 'stats proxy\r\n'));
}

/** The state (`up`/`out`) of backend `i` as the proxy sees it. */
export async function backendState(port: number, i: number): Promise<string | undefined> {
  return (await backendStats(port)).get(`backend:${i}:state`);
}
