import { serverName, type ProxySettings, type ServerAddress } from '../config/proxy-settings';

/**
 * What a reload (SIGHUP, POST /-/reload) may change while clients stay connected: the shards
 * (servers added, removed, reweighted, regrouped) and the health settings. The rest is bound
 * to what start-up made (the listening socket, the data path chosen, the connections per
 * backend the C++ path sized its lanes by, logins, the metrics listener): a reload that
 * changes one of those keeps the old value and says so.
 */
const RESTART_ONLY: readonly [keyof ProxySettings, string][] = [
  ['listen', 'listen'], ['port', 'port'], ['socketPath', 'socket'], ['backups', 'backups'],
  ['maxClients', 'max_clients'], ['connectionsPerServer', 'connections'], ['maxValue', 'max_item_size'],
  ['engine', 'engine'], ['sasl', 'sasl'], ['saslPwdb', 'sasl_pwdb'], ['authFile', 'auth_file'],
  ['backendAuth', 'backend_auth'], ['metrics', 'metrics'], ['user', 'user'],
];

export interface ReloadPlan {
  /** The settings the proxy runs with after the reload: the new file's, the restart-only ones kept. */
  settings: ProxySettings;
  /** Restart-only settings the file changed, as the file names them (kept as they were). */
  needRestart: string[];
  added: ServerAddress[];
  removed: ServerAddress[];
  reweighted: ServerAddress[];
}

/** Compares the running settings with a newly read file's. */
export function planReload(running: ProxySettings, next: ProxySettings): ReloadPlan {
  const settings: ProxySettings = { ...next };
  const needRestart: string[] = [];
  for (const [field, name] of RESTART_ONLY) {
    if (JSON.stringify(running[field]) === JSON.stringify(next[field])) continue;
    needRestart.push(name);
    (settings as unknown as Record<string, unknown>)[field] = running[field];
  }
  // Daemon and file settings only mean something at start-up; they are not compared.
  Object.assign(settings, { daemonize: running.daemonize, pidFile: running.pidFile, logFile: running.logFile });
  const before = new Map(running.shards.flat().map((a) => [serverName(a), a]));
  const after = new Map(next.shards.flat().map((a) => [serverName(a), a]));
  return {
    settings,
    needRestart,
    added: [...after].filter(([k]) => !before.has(k)).map(([, a]) => a),
    removed: [...before].filter(([k]) => !after.has(k)).map(([, a]) => a),
    reweighted: [...after].filter(([k, a]) => before.has(k) && before.get(k)!.weight !== a.weight).map(([, a]) => a),
  };
}
