import type { Credential } from '../../../config/password-file';

/**
 * The users one kind of authentication (-S or -Y) accepts, replaced whole on every reload.
 * A check looks at every entry and every byte of the longer of the two passwords, whatever
 * matches, so its time tells nothing about how much of a password was right.
 */
export class Credentials {
  private users: Array<[user: Buffer, password: Buffer]> = [];

  set(users: readonly Credential[]): void {
    this.users = users.map(([u, p]) => [Buffer.from(u, 'latin1'), Buffer.from(p, 'latin1')]);
  }

  check(user: string, password: string): boolean {
    const u = Buffer.from(user, 'latin1');
    const p = Buffer.from(password, 'latin1');
    let ok = 0;
    for (const [eu, ep] of this.users) ok |= sameBytes(u, eu) & sameBytes(p, ep);
    return ok === 1;
  }
}

/** 1 when equal, else 0; compares max(a, b) bytes with no early exit. */
export function sameBytes(a: Buffer, b: Buffer): number {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0 ? 1 : 0;
}
