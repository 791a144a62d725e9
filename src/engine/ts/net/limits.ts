/** Hand composed replies to the socket once a batch grows this large. */
export const OUTPUT_FLUSH_AT = 256 * 1024;
