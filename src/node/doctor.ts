import { addonDir, loadAddon } from '../engine/native/addon';
import { UsageError } from '../config/usage-error';
import { PACKAGE_VERSION } from '../version';

const DOCTOR_HELP = `Usage: memcache-ha-native doctor

Says which engine "serve" runs on this machine (and the proxy's data path uses): native,
from the prebuilt binary or one built from source, or the TypeScript engine, with the reason the
addon does not load. Exits 0 either way: the TypeScript engine is a working fallback.

Example:
  npx memcache-ha-native doctor
`;

/** Where node-gyp-build finds (or would look for) the addon. */
function addonPath(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('node-gyp-build') as { path(dir: string): string }).path(addonDir());
  } catch (err) {
    return `none (${String((err as Error).message).split('\n')[0]})`;
  }
}

/**
 * `memcache-ha-native doctor`: which engine `serve` (and the proxy's data path) would use on this
 * machine, and, when it is not the native one, why. Exits 0 either way: the TypeScript engine
 * is a working fallback, not an error.
 */
export function runDoctor(argv: readonly string[]): void {
  if (argv.includes('-h') || argv.includes('--help')) return void process.stdout.write(DOCTOR_HELP);
  if (argv.length > 0) throw new UsageError(`doctor takes no options: '${argv[0]}' (see memcache-ha-native doctor --help)`);
  const loaded = loadAddon();
  const lines = [
    `memcache-ha-native ${PACKAGE_VERSION}`,
    `node ${process.version} (N-API ${process.versions.napi}), ${process.platform}-${process.arch}`,
  ];
  if (loaded.ok) {
    const path = addonPath();
    const origin = path.includes('prebuilds') ? 'prebuilt' : 'built from source';
    lines.push(`native addon: loads (${origin}: ${path})`, 'engine: native');
  } else {
    lines.push(
      `native addon: does not load: ${loaded.reason}`,
      'engine: ts (the TypeScript engine: same behaviour, slower; see "Engines" in docs/architecture.md)',
      'to get the native engine: reinstall with a C++ toolchain (g++, make, python3) on PATH, or on a platform with a prebuilt binary',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
