import { readFileSync } from 'node:fs';

/** Which check a file feeds: SASL PLAIN over the binary protocol (-S), or text authentication (-Y). */
export type CredentialKind = 'sasl' | 'ascii';

/** One `user:password` line; both latin1 strings, so any byte survives the trip to the engine. */
export type Credential = readonly [user: string, password: string];

/** Longest line memcached's authfile reader takes (MAX_ENTRY_LEN). */
const MAX_LINE = 256;

/**
 * Reads a password file in the format memcached reads it for this kind, or throws an Error
 * whose message says what is wrong (never a password).
 *
 * - ascii (-Y, memcached's authfile.c): the user ends at the first ':', the password runs to
 *   the end of the line, ':' included; a line without ':' is malformed. memcached keeps only
 *   the first 8 entries and silently truncates longer lines; here every line counts and a line
 *   over 256 bytes is refused, so a file never means something other than what it says.
 * - sasl (MEMCACHED_SASL_PWDB, memcached's sasl_defs.c): the same, except that the password
 *   ends at the next ':' (more fields may follow) and lines without ':' are skipped.
 */
export function readPasswordFile(path: string, kind: CredentialKind): Credential[] {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const users: Credential[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > MAX_LINE) throw new Error(`${path} line ${i + 1}: longer than ${MAX_LINE} bytes`);
    const colon = line.indexOf(':');
    if (colon < 0) {
      if (kind === 'sasl') return;
      throw new Error(`${path} line ${i + 1}: malformed entry, should be 'user:password'`);
    }
    const rest = line.slice(colon + 1);
    const end = kind === 'sasl' && rest.includes(':') ? rest.indexOf(':') : rest.length;
    users.push([line.slice(0, colon), rest.slice(0, end)]);
  });
  return users;
}
