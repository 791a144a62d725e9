import { timingSafeEqual } from 'node:crypto';
import type { Credential } from '../config/password-file';

/**
 * The authentication the proxy can require of its clients, as memcached requires it: SASL
 * PLAIN over the binary protocol (-S) or the text protocol's -Y login (a first `set` whose
 * data is `user password`). Users come from a `user:password` file read at start-up.
 * Passwords are compared in constant time and never logged; a failed attempt is answered
 * only after FAILURE_DELAY_MS, during which the connection reads nothing.
 */
export type ClientAuthKind = 'sasl' | 'ascii';

export const FAILURE_DELAY_MS = 500;
/** The SASL mechanisms the proxy offers (memcached's list with only the PLAIN plugin). */
export const SASL_MECHS = 'PLAIN';
/** Longest -Y line memcached waits for before it closes (try_read_command_asciiauth). */
export const ASCII_AUTH_MAX_LINE = 2048;
/** The most -Y login data the proxy waits for (user, space, password: a password file's line is at most 256 bytes). */
export const ASCII_AUTH_MAX_DATA = 64 * 1024;

export class ClientAuth {
  private users: Map<string, Buffer>;

  constructor(readonly kind: ClientAuthKind, users: readonly Credential[]) {
    this.users = ClientAuth.index(users);
  }

  /** New users (a re-read file). */
  setUsers(users: readonly Credential[]): void {
    this.users = ClientAuth.index(users);
  }

  /** Whether `user` has `password`; the password's bytes are compared in constant time. */
  check(user: string, password: Buffer): boolean {
    const known = this.users.get(user);
    // An unknown user costs the same comparison as a wrong password.
    return sameSecret(known ?? Buffer.alloc(0), password) && known !== undefined;
  }

  /**
   * SASL PLAIN's message (authzid NUL authcid NUL password): whether it logs in. An authzid
   * other than the user itself is refused, as Cyrus SASL refuses it without a proxy policy.
   */
  checkPlain(message: Buffer): boolean {
    const a = message.indexOf(0);
    const b = a < 0 ? -1 : message.indexOf(0, a + 1);
    if (b < 0) {
      this.check('', message);
      return false;
    }
    const authzid = message.toString('latin1', 0, a);
    const user = message.toString('latin1', a + 1, b);
    const ok = this.check(user, message.subarray(b + 1));
    return ok && (authzid === '' || authzid === user);
  }

  private static index(users: readonly Credential[]): Map<string, Buffer> {
    const m = new Map<string, Buffer>();
    // The first line of a user counts, as memcached reads its files.
    for (const [u, p] of users) if (!m.has(u)) m.set(u, Buffer.from(p, 'latin1'));
    return m;
  }
}

/** Every byte of the longer of the two is compared; no early exit, whatever the lengths. */
function sameSecret(a: Buffer, b: Buffer): boolean {
  const n = Math.max(a.length, b.length, 1);
  const pa = Buffer.alloc(n);
  const pb = Buffer.alloc(n);
  a.copy(pa);
  b.copy(pb);
  return timingSafeEqual(pa, pb) && a.length === b.length;
}

/** The tokens of buf[start, end) split at spaces, as memcached's tokenize_command splits them. */
function tokens(buf: Buffer, start: number, end: number): string[] {
  return buf.toString('latin1', start, end).split(' ').filter((t) => t !== '');
}

/**
 * The -Y login line (up to its newline, `\r` kept as memcached keeps it): the size of the data
 * that follows, or null when the line is not `set <key> <flags> <exptime> <bytes> ...`
 * (memcached answers CLIENT_ERROR unauthenticated and reads on).
 */
export function asciiAuthLine(buf: Buffer, start: number, nl: number): number | null {
  const t = tokens(buf, start, nl);
  if (t.length < 5 || t[0] !== 'set') return null;
  // safe_strtoul: digits, then nothing or white space (the line's \r).
  const m = /^\+?([0-9]+)\s*$/.exec(t[4]!);
  if (!m) return null;
  const n = Number(m[1]);
  return n <= 0xffffffff ? n : null;
}

/** The -Y login data (with its last two bytes): memcached's reply and whether it logged in. */
export function asciiAuthData(auth: ClientAuth, data: Buffer): { reply: string; ok: boolean } {
  const n = data.length;
  if (n < 2 || data[n - 2] !== 13 || data[n - 1] !== 10) return { reply: 'CLIENT_ERROR bad command line termination', ok: false };
  const t = tokens(data, 0, n - 2);
  if (t.length < 2) return { reply: 'CLIENT_ERROR bad authentication token format', ok: false };
  if (auth.check(t[0]!, Buffer.from(t[1]!, 'latin1'))) return { reply: 'STORED', ok: true };
  return { reply: 'CLIENT_ERROR authentication failure', ok: false };
}
