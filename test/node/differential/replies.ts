/**
 * Splits a reply stream into replies (lines, and VALUE blocks with their data) so a stream can
 * be normalised and compared without mistaking value bytes for protocol lines.
 */
export interface ParsedStream {
  replies: string[];
  /** Bytes not yet forming a whole reply. */
  rest: number;
}

export function splitReplies(buf: Buffer): ParsedStream {
  const replies: string[] = [];
  let off = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', off);
    if (nl < 0) break;
    const line = buf.toString('latin1', off, nl);
    if (line.startsWith('VALUE ')) {
      const bytes = Number(line.split(' ')[3]);
      const end = nl + 2 + bytes + 2;
      if (!Number.isSafeInteger(bytes) || end > buf.length) break;
      replies.push(buf.toString('latin1', off, end));
      off = end;
    } else {
      replies.push(line + '\r\n');
      off = nl + 2;
    }
  }
  return { replies, rest: buf.length - off };
}

/**
 * Replaces what may differ between two correct servers: CAS uniques become the order in
 * which this server first showed them (so "same item version, same CAS" is still checked),
 * and the version string. Records each key's last CAS for later `cas` commands.
 */
export class Normaliser {
  private readonly casIds = new Map<string, number>();
  readonly lastCas = new Map<string, string>();

  normalise(reply: string): string {
    if (reply.startsWith('VERSION ')) return 'VERSION x\r\n';
    if (!reply.startsWith('VALUE ')) return reply;
    const headerEnd = reply.indexOf('\r\n');
    const parts = reply.slice(0, headerEnd).split(' ');
    if (parts.length !== 5) return reply;
    const cas = parts[4]!;
    this.lastCas.set(parts[1]!, cas);
    let id = this.casIds.get(cas);
    if (id === undefined) {
      id = this.casIds.size + 1;
      this.casIds.set(cas, id);
    }
    parts[4] = `#${id}`;
    return parts.join(' ') + reply.slice(headerEnd);
  }
}
