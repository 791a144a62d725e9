/** memcached closes a connection whose unterminated non-get line grows past this. */
export const MAX_COMMAND_LINE = 2048;
/** memcached's read buffer: a non-get line longer than this can never be parsed there. */
export const MAX_COMPLETE_LINE = 16384;
/** Multi-get lines may be long (thousands of keys); past this bound the connection is closed. */
export const MAX_GET_LINE = 8 * 1024 * 1024;
/** Stop reading from a client while this much of its output is unsent. */
export const OUTPUT_HIGH_WATER = 4 * 1024 * 1024;
/** Hand composed replies to the socket once a batch grows this large. */
export const OUTPUT_FLUSH_AT = 256 * 1024;
