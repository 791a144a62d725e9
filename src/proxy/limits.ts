/**
 * The proxy's bounds, shared by its TypeScript path and (through ProxyCore's settings) its C++
 * path: declared here only.
 */

/** Stop reading from a client with this many replies owed. */
export const MAX_IN_FLIGHT = 4096;
/** A backend connection with this much output queued refuses more: the request fails over as "overloaded". */
export const BACKEND_SEND_HIGH_WATER = 8 * 1024 * 1024;
/** The most nodes one request is sent to (the first try and its retries) before its error reply. */
export const MAX_TRIES = 4;
