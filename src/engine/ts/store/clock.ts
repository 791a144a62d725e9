/** Unix time in whole seconds, the resolution of memcached expiry. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Longest relative expiry; larger values are absolute unix times (memcached's REALTIME_MAXDELTA). */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

/**
 * memcached's exptime rules as an absolute unix second: 0 never expires, up to 30 days is
 * relative, larger is absolute, negative means already expired. A result of 1 is "long ago".
 */
export function absoluteExpiry(exptime: number, now: number): number {
  if (exptime === 0) return 0;
  if (exptime < 0) return 1;
  if (exptime > MAX_RELATIVE_EXPTIME) return exptime <= now ? 1 : exptime;
  return now + exptime;
}
