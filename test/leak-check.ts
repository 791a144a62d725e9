import { RawClient } from './helpers/client';
import { BIN } from './helpers/servers';
import { spawnTracked, stopProcess, waitFor } from './helpers/processes';

/**
 * Run by .ci/run on the sanitizer build: drives one native node through stores, gets, errors,
 * evictions and abrupt disconnects with LeakSanitizer on, stops it, and fails if a leaked block
 * was allocated by our code. (Node and V8 keep process-lifetime allocations that LSan also
 * reports; those are not ours: their first frame after the allocator is not in native/src/.)
 */
async function main(): Promise<void> {
  const preload = process.env.SANITIZER_PRELOAD;
  if (!preload) throw new Error('SANITIZER_PRELOAD is not set: run this on the sanitizer build (see .ci/run)');
  const proc = spawnTracked(process.execPath, [BIN, 'serve', '-p', '0', '--engine', 'native', '-m', '4'], {
    ...process.env, LD_PRELOAD: preload, ASAN_OPTIONS: 'detect_leaks=1',
  });
  const port = await waitFor('the node to listen', 20_000, () => {
    const m = /listening on \S+:(\d+)/.exec(proc.stdout());
    return m ? Number(m[1]) : undefined;
  });
  const big = 'b'.repeat(5000);
  for (let round = 0; round < 20; round++) {
    const c = await RawClient.connect(port);
    let batch = '';
    for (let i = 0; i < 200; i++) {
      batch += `set k${round}-${i} 0 0 5000 noreply\r\n${big}\r\nappend k${round}-${i} 0 0 1 noreply\r\nx\r\n`;
      batch += `get k${round}-${i} k${round}-${i % 7}\r\nincr k${i} 1\r\ndelete k${round}-${i - 1}\r\nbogus\r\n`;
    }
    batch += `set huge 0 0 2000000\r\n${'z'.repeat(2000000)}\r\nflush_all\r\n`;
    c.send(batch);
    // Every other round the client leaves with replies still queued.
    if (round % 2) await c.call('mn\r\n', 'MN\r\n', 20_000);
    c.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  await stopProcess(proc, 'SIGTERM', 20_000);
  const err = proc.stderr();
  const reports = err.split(/\n(?=(?:Direct|Indirect) leak of)/).slice(1);
  const ours = reports.filter((r) => {
    const frames = r.split('\n').filter((l) => /^\s+#\d+ /.test(l));
    const first = frames.find((l) => !/operator new|malloc|calloc|realloc|asan_/.test(l));
    return first !== undefined && first.includes('native/src/');
  });
  if (/ERROR: AddressSanitizer: (?!.*leak)/.test(err)) throw new Error(`AddressSanitizer error:\n${err.slice(0, 6000)}`);
  process.stdout.write(`leak check: ${reports.length} leak reports from node/V8, ${ours.length} allocated by native/src\n`);
  if (ours.length) throw new Error(`leaks in our code:\n${ours.join('\n').slice(0, 8000)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
