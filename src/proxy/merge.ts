const END = Buffer.from('END\r\n');

/** The VALUE blocks of a get reply, each with its key. null when the reply is not VALUE...END. */
function valueBlocks(reply: Buffer): { key: string; block: Buffer }[] | null {
  const blocks: { key: string; block: Buffer }[] = [];
  let at = 0;
  for (;;) {
    const nl = reply.indexOf(10, at);
    if (nl < 0) return null;
    if (reply[at] !== 86 /* V */) return reply.toString('latin1', at, nl + 1) === 'END\r\n' ? blocks : null;
    const header = reply.toString('latin1', at, nl);
    const fields = header.split(' ');
    const bytes = Number(fields[3]);
    if (fields[0] !== 'VALUE' || !Number.isInteger(bytes)) return null;
    const end = nl + 1 + bytes + 2;
    blocks.push({ key: fields[1]!, block: reply.subarray(at, end) });
    at = end;
  }
}

/** The keys a get reply holds values for. */
export function getReplyKeys(reply: Buffer): Set<string> {
  return new Set((valueBlocks(reply) ?? []).map((b) => b.key));
}

/**
 * Puts the replies of a split multi-key get back together in the order the client asked for
 * the keys (memcached's order: hits in request order, duplicates repeated). A part that failed
 * or answered with an error makes the whole reply that error: the client must not take a
 * failure for misses.
 */
export function mergeGetReplies(keys: readonly string[], partKeys: readonly number[][], replies: readonly (Buffer | null)[]): Buffer[] {
  const partOf = new Int32Array(keys.length);
  const blocks: { key: string; block: Buffer }[][] = [];
  for (let p = 0; p < partKeys.length; p++) {
    for (const i of partKeys[p]!) partOf[i] = p;
    const reply = replies[p]!;
    const parsed = valueBlocks(reply);
    if (parsed === null) return [reply];
    blocks.push(parsed);
  }
  const cursor = new Int32Array(partKeys.length);
  const out: Buffer[] = [];
  for (let i = 0; i < keys.length; i++) {
    const p = partOf[i]!;
    const next = blocks[p]![cursor[p]!];
    if (next && next.key === keys[i]) {
      out.push(next.block);
      cursor[p]!++;
    }
  }
  out.push(END);
  return out;
}
