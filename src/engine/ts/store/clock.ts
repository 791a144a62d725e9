/** Unix time in whole seconds, the resolution of memcached expiry. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Longest relative expiry; larger values are absolute unix times (memcached's REALTIME_MAXDELTA). */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

/** memcached dates its process start ITEM_UPDATE_INTERVAL + 2 seconds early (stats_init). */
const PROCESS_START_LEAD = 62;

/** The second the node started (memcached's stats_init); the engine sets it when it is made. */
let startSecond = nowSeconds();

export function markProcessStart(at: number = nowSeconds()): void {
  startSecond = at;
}

/** memcached's process_started as a unix second: the node's start second less 62. */
export function processStarted(start: number = startSecond): number {
  return start - PROCESS_START_LEAD;
}

/**
 * Where memcached puts every expiry that is already past when given (a negative one, or an
 * absolute time at or before process_started): relative time 1, the second after
 * process_started. `mg t` then prints (this - now) as u32: 2^32 - 61 - uptime.
 */
export function longAgo(start: number = startSecond): number {
  return processStarted(start) + 1;
}

/**
 * memcached's realtime(EXPTIME_TO_POSITIVE_TIME(exptime)) as an absolute unix second: 0 never
 * expires, up to 30 days is relative, larger is absolute; negative, and absolute times at or
 * before process_started, become longAgo(). An absolute time after process_started but already
 * past stays itself (dead at once, `t` counts from it).
 */
export function absoluteExpiry(exptime: number, now: number, start: number = startSecond): number {
  if (exptime === 0) return 0;
  if (exptime < 0) return longAgo(start);
  if (exptime > MAX_RELATIVE_EXPTIME) return exptime <= processStarted(start) ? longAgo(start) : exptime;
  return now + exptime;
}
