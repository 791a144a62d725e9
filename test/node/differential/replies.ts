/**
 * Splits a reply stream into replies (lines, and VALUE / VA blocks with their data) so a
 * stream can be normalised and compared without mistaking value bytes for protocol lines.
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
    const block = line.startsWith('VALUE ') ? 3 : line.startsWith('VA ') ? 1 : -1;
    if (block >= 0) {
      const bytes = Number(line.split(' ')[block]);
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

const META_STATUS = /^(VA|HD|EN|NF|NS|EX) /;

/**
 * Replaces what may differ between two correct servers: CAS uniques become the order in
 * which this server first showed them (so "same item version, same CAS" is still checked),
 * in `gets` VALUE lines, in meta `c<cas>` return flags and in `me`'s cas=; and the version
 * string. Records each key's last CAS (from VALUE lines, and from meta replies that carry
 * both k<key> and c<cas>) for later `cas` commands and `C<cas>` flags.
 */
export type CasScope = 'server' | 'key';

export class Normaliser {
  private readonly casIds = new Map<string, number>();
  readonly lastCas = new Map<string, string>();

  /**
   * `scope`: 'server' numbers each distinct unique once (one server hands out each unique
   * once); 'key' numbers each (key, unique) pair, for several servers behind a proxy, whose
   * uniques may collide across servers but never within one key's history.
   */
  constructor(private readonly scope: CasScope = 'server') {}

  private id(cas: string, key: string | undefined): string {
    const name = this.scope === 'key' ? `${key ?? ''}\0${cas}` : cas;
    let id = this.casIds.get(name);
    if (id === undefined) {
      id = this.casIds.size + 1;
      this.casIds.set(name, id);
    }
    return `#${id}`;
  }

  normalise(reply: string): string {
    if (reply.startsWith('VERSION ')) return 'VERSION x\r\n';
    const headerEnd = reply.indexOf('\r\n');
    const parts = reply.slice(0, headerEnd).split(' ');
    if (reply.startsWith('VALUE ')) {
      if (parts.length !== 5) return reply;
      const cas = parts[4]!;
      this.lastCas.set(parts[1]!, cas);
      parts[4] = this.id(cas, parts[1]);
    } else if (META_STATUS.test(reply)) {
      let key: string | undefined;
      let cas: string | undefined;
      let casAt = -1;
      parts.forEach((p, i) => {
        if (i === 0 || (i === 1 && parts[0] === 'VA')) return;
        if (/^c\d+$/.test(p)) {
          cas = p.slice(1);
          casAt = i;
        } else if (p.startsWith('k')) {
          key = parts[i + 1] === 'b' ? Buffer.from(p.slice(1), 'base64').toString('latin1') : p.slice(1);
        }
      });
      if (cas !== undefined) parts[casAt] = `c${this.id(cas, key)}`;
      if (key !== undefined && cas !== undefined) this.lastCas.set(key, cas);
    } else if (reply.startsWith('ME ')) {
      return reply.replace(/ cas=(\d+) /, (_, cas: string) => ` cas=${this.id(cas, parts[1])} `);
    } else {
      return reply;
    }
    return parts.join(' ') + reply.slice(headerEnd);
  }
}

/**
 * Whether two normalised replies agree. Beyond byte equality, one thing two correct servers
 * may differ in: their clocks. Each counts whole seconds from its own start, so a second
 * boundary can fall between them; and memcached's clock is a once-a-second timer, which lags
 * on a loaded host (a TTL two seconds off was seen in CI). So remaining TTLs (`t<n>`), seconds
 * since the last access (`l<n>`) and me's exp= and la= may differ by up to 2, and a TTL in the
 * past (of an item stored with a negative exptime) by the servers' start times. Nothing else
 * is tolerated.
 */
export function sameReply(a: string, b: string): boolean {
  if (a === b) return true;
  const ea = a.indexOf('\r\n');
  const eb = b.indexOf('\r\n');
  if (a.slice(ea) !== b.slice(eb)) return false;
  const ta = a.slice(0, ea).split(' ');
  const tb = b.slice(0, eb).split(' ');
  if (ta.length !== tb.length || !(META_STATUS.test(a) || a.startsWith('ME '))) return false;
  return ta.every((x, i) => {
    const y = tb[i]!;
    if (x === y) return true;
    const mx = /^(t|l|exp=|la=)(-?\d+)$/.exec(x);
    const my = /^(t|l|exp=|la=)(-?\d+)$/.exec(y);
    if (!mx || !my || mx[1] !== my[1]) return false;
    const [nx, ny] = [Number(mx[2]), Number(my[2])];
    // t-1 means "never expires": no allowance between that and a real TTL.
    if (mx[1] === 't' && (nx === -1 || ny === -1)) return false;
    // A TTL in the past, printed unsigned (2^32 - n): memcached keeps a negative exptime as the
    // first second after its start, so the TTL it reports is minus its uptime, and two servers
    // started seconds apart (a loaded host) differ by that whatever their clocks.
    if (mx[1] === 't' && nx >= 2 ** 31 && ny >= 2 ** 31) return true;
    return Math.abs(nx - ny) <= 2;
  });
}
