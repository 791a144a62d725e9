import { RawClient } from './helpers/client';
import { BIN } from './helpers/servers';
import { spawnTracked, stopProcess, waitFor, type Spawned } from './helpers/processes';

/**
 * Run by .ci/run on the sanitizer build: drives one native node through stores, gets, errors,
 * evictions and abrupt disconnects with LeakSanitizer on, and a proxy on its C++ data path in
 * front of it and a second node (plain requests, handoffs, clients leaving with replies owed,
 * then the first node gone), stops each, and fails if a leaked block was allocated by our code. (Node and V8 keep process-lifetime allocations that LSan also
 * reports; those are not ours: their first frame after the allocator is not in native/src/.)
 */
/** Starts `args` (serve or proxy) with LeakSanitizer on; resolves with the process and its port. */
async function startChecked(args: string[], preload: string): Promise<{ proc: Spawned; port: number }> {
  const proc = spawnTracked(process.execPath, [BIN, ...args], { ...process.env, LD_PRELOAD: preload, ASAN_OPTIONS: 'detect_leaks=1' });
  const port = await waitFor(`${args[0]} to listen`, 20_000, () => {
    const m = /listening on \S+:(\d+)/.exec(proc.stdout());
    return m ? Number(m[1]) : undefined;
  });
  return { proc, port };
}

/** Stops the process and fails if a leaked block was allocated by our code (or ASan saw an error). */
async function verdict(what: string, proc: Spawned): Promise<void> {
  await stopProcess(proc, 'SIGTERM', 20_000);
  const err = proc.stderr();
  const reports = err.split(/\n(?=(?:Direct|Indirect) leak of)/).slice(1);
  const ours = reports.filter((r) => {
    const frames = r.split('\n').filter((l) => /^\s+#\d+ /.test(l));
    const first = frames.find((l) => !/operator new|malloc|calloc|realloc|asan_/.test(l));
    return first !== undefined && first.includes('native/src/');
  });
  if (/ERROR: AddressSanitizer: (?!.*leak)/.test(err)) throw new Error(`${what}: AddressSanitizer error:\n${err.slice(0, 6000)}`);
  process.stdout.write(`leak check (${what}): ${reports.length} leak reports from node/V8, ${ours.length} allocated by native/src\n`);
  if (ours.length) throw new Error(`${what}: leaks in our code:\n${ours.join('\n').slice(0, 8000)}`);
}

async function main(): Promise<void> {
  const preload = process.env.SANITIZER_PRELOAD;
  if (!preload) throw new Error('SANITIZER_PRELOAD is not set: run this on the sanitizer build (see .ci/run)');
  const { proc, port } = await startChecked(['serve', '-p', '0', '--engine', 'native', '-m', '4'], preload);
  // A second node, and the proxy's C++ data path in front of both.
  const other = await startChecked(['serve', '-p', '0', '--engine', 'native', '-m', '4'], preload);
  const proxy = await startChecked(['proxy', '-p', '0', '--engine', 'native', '--timeout', '300', '-s', `127.0.0.1:${port}`, '-s', `127.0.0.1:${other.port}`], preload);
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
  // Through the proxy: plain requests on the C++ path, clients leaving with replies owed, and
  // every other round a connection handed to the TypeScript path mid-pipeline.
  for (let round = 0; round < 20; round++) {
    const c = await RawClient.connect(proxy.port);
    let batch = '';
    for (let i = 0; i < 100; i++) batch += `set p${i} 0 0 5000 noreply\r\n${big}\r\nget p${i} p${i}\r\nget p${i % 3}\r\nincr p${i} 1\r\n`;
    if (round % 2) batch += 'version\r\nget p1 p2 p3 p4\r\n';
    c.send(batch);
    if (round % 4 === 1) await c.call('mn\r\n', 'MN\r\n', 20_000);
    c.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  await verdict('node', proc);
  // The proxy keeps serving with a node gone (failures, retries, the node out), then stops.
  const c = await RawClient.connect(proxy.port);
  for (let i = 0; i < 50; i++) await c.call(`get p${i}\r\n`, 'END\r\n', 5000);
  c.close();
  await verdict('proxy', proxy.proc);
  await verdict('second node', other.proc);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
