import { UsageError } from './config/usage-error';
import { runDoctor } from './node/doctor';
import { runServe } from './node/serve';
import { runProxy } from './proxy/run-proxy';
import { runTop } from './top/run-top';
import { StartupError } from './startup-error';
import { PACKAGE_VERSION } from './version';

const USAGE = `Usage: memcache-ha-native <command> [options]

Commands:
  serve     run a memcached-compatible cache node (see: memcache-ha-native serve --help)
  proxy     route clients over many nodes, with failover (see: memcache-ha-native proxy --help)
  top       watch nodes, proxies or any memcached live: ops/s, hits, memory, replication
  doctor    say which engine runs here (native or TypeScript) and, if not native, why

Examples:
  memcache-ha-native serve -p 11211 -m 1024
  memcache-ha-native serve -d -x 127.0.0.1 --repl-mode sync
  memcache-ha-native proxy -p 11233 -s 127.0.0.1:11211 -s 127.0.0.1:11222
  memcache-ha-native top 127.0.0.1:11211 127.0.0.1:11233
  memcache-ha-native doctor

Options:
  -h, --help      this text
  -V, --version   print the version
`;

/** Entry point of the `memcache-ha-native` command. */
export function main(argv: readonly string[]): void {
  run(argv).catch((err: unknown) => {
    if (err instanceof UsageError) fail(err.message, 64);
    else if (err instanceof StartupError) fail(err.message, 1);
    else fail(`unexpected error: ${(err as Error)?.stack ?? String(err)}`, 70);
  });
}

async function run(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'proxy':
      return runProxy(rest);
    case 'top':
      return runTop(rest);
    case 'doctor':
      return runDoctor(rest);
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return;
    case '-V':
    case '--version':
      process.stdout.write(`memcache-ha-native ${PACKAGE_VERSION}\n`);
      return;
    case undefined:
      throw new UsageError('a command is needed, e.g. "memcache-ha-native serve" (see --help)');
    default:
      throw new UsageError(`unknown command '${command}' (see --help)`);
  }
}

function fail(message: string, status: number): void {
  process.stderr.write(`memcache-ha-native: ${message}\n`);
  process.exit(status);
}
