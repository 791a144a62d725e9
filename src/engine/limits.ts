/**
 * Bounds both engines apply, declared once: the TypeScript engine imports them, the native one
 * gets them in the settings it is started with (src/engine/native/native-engine.ts).
 */

/** Hand composed replies to the socket once a batch grows this large. */
export const OUTPUT_FLUSH_AT = 256 * 1024;
/** How long a tombstone outlives its delete: longer than any record can sit in a backlog or a socket. */
export const TOMBSTONE_TTL_MS = 10 * 60 * 1000;
/** At most this many tombstones: a bound on memory whatever the delete rate (the oldest go first). */
export const TOMBSTONE_MAX = 256 * 1024;
