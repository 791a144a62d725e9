/**
 * A storage command's data block that arrives over several reads, for the node's connection
 * and the proxy's client alike: filled (kept) or skipped (a refused command's block).
 */
export interface BlockFill {
  data: Buffer;
  filled: number;
}

/** Copies what the block still lacks from buf[off, end); returns the offset after what it took. */
export function fillBlock(st: BlockFill, buf: Buffer, off: number, end: number): number {
  const n = Math.min(st.data.length - st.filled, end - off);
  buf.copy(st.data, st.filled, off, off + n);
  st.filled += n;
  return off + n;
}

/** Skips what is left of a refused block in [off, end); returns the offset after what it took. */
export function skipBlock(st: { left: number }, off: number, end: number): number {
  const n = Math.min(st.left, end - off);
  st.left -= n;
  return off + n;
}
