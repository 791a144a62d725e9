/**
 * Output bounds shared by every client connection, the TypeScript engine's and the proxy's.
 * They live outside both so that the proxy does not import engine internals; the C++ data paths
 * get them in the settings they are started with.
 */

/** Stop reading from a client while this much of its output is unsent. */
export const OUTPUT_HIGH_WATER = 4 * 1024 * 1024;
