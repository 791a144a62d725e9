/** memcached's per-command counters, named as in its `stats` output. */
export interface CommandCounters {
  cmd_get: number;
  cmd_set: number;
  cmd_flush: number;
  cmd_touch: number;
  /** memcached counts only `me` here. */
  cmd_meta: number;
  get_hits: number;
  get_misses: number;
  delete_misses: number;
  delete_hits: number;
  incr_misses: number;
  incr_hits: number;
  decr_misses: number;
  decr_hits: number;
  cas_misses: number;
  cas_hits: number;
  cas_badval: number;
  touch_hits: number;
  touch_misses: number;
  store_too_large: number;
  store_no_memory: number;
  /** SASL and -Y authentications, and those that failed. */
  auth_cmds: number;
  auth_errors: number;
}

export function newCommandCounters(): CommandCounters {
  return {
    cmd_get: 0, cmd_set: 0, cmd_flush: 0, cmd_touch: 0, cmd_meta: 0, get_hits: 0, get_misses: 0,
    delete_misses: 0, delete_hits: 0, incr_misses: 0, incr_hits: 0, decr_misses: 0,
    decr_hits: 0, cas_misses: 0, cas_hits: 0, cas_badval: 0, touch_hits: 0, touch_misses: 0,
    store_too_large: 0, store_no_memory: 0, auth_cmds: 0, auth_errors: 0,
  };
}

/** What the network layer counts, for `stats`. */
export interface ConnectionCounters {
  currConnections: number;
  totalConnections: number;
  rejectedConnections: number;
  bytesRead: number;
  bytesWritten: number;
  /** Times a connection stopped at -R's commands per event (memcached's conn_yields). */
  connYields: number;
}
