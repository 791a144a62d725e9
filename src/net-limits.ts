/**
 * Output bounds shared by every client connection, the TypeScript engine's and the proxy's.
 * They live outside both so that the proxy does not import engine internals (the native proxy
 * core keeps the same number in C++).
 */

/** Stop reading from a client while this much of its output is unsent. */
export const OUTPUT_HIGH_WATER = 4 * 1024 * 1024;
