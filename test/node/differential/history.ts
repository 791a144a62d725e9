import { readFileSync } from 'node:fs';

/**
 * Debugging aid, not a test: the commands a DIFF_DUMP file (written by a failing
 * differential run) sent to memcached that name a key, in order, with sub-batch number and
 * connection. Usage: node dist/test/node/differential/history.js /tmp/x.json KEY [KEY...]
 * (a key also matches its base64 spelling).
 */
const STORE = new Set(['set', 'add', 'replace', 'append', 'prepend', 'cas']);

function main(): void {
  const [file, ...keys] = process.argv.slice(2);
  if (!file || keys.length === 0) {
    console.error('usage: history.js DUMP.json KEY [KEY...]');
    process.exit(2);
  }
  const names = new Set(keys.flatMap((k) => [k, Buffer.from(k, 'latin1').toString('base64')]));
  const dump = JSON.parse(readFileSync(file, 'utf8')) as Array<[number, number, string]>;
  let n = 0;
  for (const [side, conn, sub] of dump) {
    if (side !== 0) continue;
    n++;
    let off = 0;
    while (off < sub.length) {
      const nl = sub.indexOf('\n', off);
      if (nl < 0) break;
      const line = sub.slice(off, nl).replace(/\r$/, '');
      off = nl + 1;
      const t = line.split(' ');
      const lenToken = STORE.has(t[0]!) ? t[4] : t[0] === 'ms' ? t[2] : undefined;
      let data = '';
      if (lenToken !== undefined && /^\d+$/.test(lenToken)) {
        data = sub.slice(off, off + Number(lenToken));
        off += Number(lenToken) + 2;
      }
      if (t.slice(1).some((x) => names.has(x))) {
        console.log(`sub-batch ${n} conn ${conn}: ${JSON.stringify(line)}${data ? ` data ${JSON.stringify(data.slice(0, 60))}` : ''}`);
      }
    }
  }
}

main();
