import { readFileSync } from 'node:fs';
import { StartupError } from '../startup-error';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/**
 * memcached's -u: a node started as root switches to `user`. Resolved before anything starts,
 * so an unknown user fails cleanly; null when there is nothing to switch (not root, or root).
 */
export function accountToSwitchTo(user: string): Account | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || user === 'root') return null;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === user);
  if (!entry) throw new StartupError(`can't find the user ${user} to switch to`);
  return { name: user, uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** Switches after binding, so the node can still take a low port. */
export function switchTo(account: Account): void {
  process.setgroups?.([account.gid]);
  process.setgid!(account.gid);
  process.setuid!(account.uid);
}
