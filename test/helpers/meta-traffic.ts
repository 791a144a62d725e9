import type { RawClient } from './client';
import type { Random } from './random';

/**
 * Meta-protocol traffic for the proxy's comparisons with one memcached: random requests whose
 * replies memcached fixes byte for byte (no CAS, TTL or access times), and a batch exchange
 * that ends at an mn.
 */
export const b64 = (key: string): string => Buffer.from(key, 'latin1').toString('base64');

/** Sends `batch` and an mn; reads up to that mn's MN (the batch's own mn lines answer MN too). */
export async function exchange(c: RawClient, batch: string): Promise<string> {
  const want = batch.split('\r\n').filter((l) => l === 'mn').length + 1;
  c.send(`${batch}mn\r\n`);
  const mn = Buffer.from('MN\r\n');
  const got = await c.readUntil(`${want} MN lines`, (b) => {
    let n = 0;
    for (let at = b.indexOf(mn); at >= 0; at = b.indexOf(mn, at + mn.length)) n++;
    return n >= want && b.subarray(b.length - mn.length).equals(mn) ? b.length : -1;
  });
  return got.toString('latin1');
}

const MALFORMED = ['mg\r\n', 'ms k abc\r\n', 'ms k 2 ZZ\r\nxy\r\n', 'mg k q q\r\n', 'ma k MX q\r\n', 'mz k\r\n', `mg k O${'1'.repeat(40)}\r\n`];

/** One request over `keys`: mg ms md ma with random flags, base64 keys, mn, get; `malformed` mixes in bad lines. */
export function metaRequest(r: Random, keys: readonly string[], malformed = false): string {
  const key = r.pick(keys);
  const binary = r.chance(0.3);
  const k = binary ? `${b64(key)} b` : key;
  const flag = (f: string, p = 0.3) => (r.chance(p) ? ` ${f}` : '');
  const opaque = flag(`O${r.int(0, 99999)}`, 0.5);
  const q = flag('q', 0.3);
  const value = 'v'.repeat(r.chance(0.2) ? r.int(1000, 5000) : r.int(0, 20));
  return r.weighted<() => string>([
    [20, () => `mg ${k}${flag('v', 0.7)}${flag('k')}${flag('f')}${flag('s')}${opaque}${q}\r\n`],
    [15, () => `ms ${binary ? b64(key) : key} ${value.length}${binary ? ' b' : ''}${flag(`F${r.int(0, 9)}`)}${flag(`M${r.pick(['S', 'E', 'A', 'P', 'R'])}`)}${opaque}${q}${flag('k')}\r\n${value}\r\n`],
    [6, () => `md ${k}${opaque}${q}${flag('k')}\r\n`],
    [8, () => `ma ${k}${flag(`D${r.int(0, 50)}`)}${flag(`M${r.pick(['I', 'D', '+', '-'])}`)}${flag(`N0 J${r.int(0, 9)}`)}${flag('v')}${opaque}${q}\r\n`],
    [3, () => 'mn\r\n'],
    [3, () => `get ${key}\r\n`],
    [malformed ? 2 : 0, () => r.pick(MALFORMED)],
  ])();
}
