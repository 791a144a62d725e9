import { readFileSync } from 'node:fs';
import { StartupError } from '../startup-error';

/**
 * memcached's -u: a node started as root switches to `user` (after binding, so it can take a
 * low port). Started as another user, or with `-u root`, it stays who it is.
 */
export function dropPrivileges(user: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || user === 'root') return;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === user);
  if (!entry) throw new StartupError(`can't find the user ${user} to switch to`);
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  process.setgroups?.([gid]);
  process.setgid!(gid);
  process.setuid!(uid);
}
