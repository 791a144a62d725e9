import { parseTopArgs, type TopTarget } from '../config/top-args';
import { renderLine, renderScreen, type TargetState } from './render';
import { StatsClient, type StatsReply } from './stats-client';
import { viewOf, type Sample } from './target-view';
import { TOP_HELP } from './top-help';

// Alternate screen (the shell's screen comes back on exit), cursor home and clear, cursor hidden/shown.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H\x1b[2J';

/** One target: its connection and its last sample, for the next refresh's rates. */
class Watcher {
  readonly state: TargetState;
  private readonly client: StatsClient;
  private last: Sample | null = null;

  constructor(readonly target: TopTarget) {
    this.client = new StatsClient(target.host, target.port);
    this.state = { name: target.name, view: null, error: null };
  }

  async refresh(): Promise<void> {
    try {
      const stats = await this.client.ask('');
      // The sample's time is the stats reply's: the extra groups below may take a while more.
      const at = performance.now();
      if (stats === null) throw new Error('stats refused (an error reply: not memcached, or a login is needed)');
      // The extra group each kind has: a node's replication, the proxy's backends.
      const extra = async (group: string, when: boolean): Promise<StatsReply> => (when ? this.client.ask(group) : null);
      const replication = await extra('replication', stats.has('engine'));
      const proxy = await extra('proxy', stats.has('cluster_shards'));
      const sample: Sample = { at, stats, replication, proxy };
      this.state.view = viewOf(this.target.name, sample, this.last);
      this.state.error = null;
      this.last = sample;
    } catch (err) {
      // Rates start again from the next good sample: a restarted target's counters start at zero.
      this.last = null;
      this.state.view = null;
      this.state.error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
  }

  close(): void {
    this.client.close();
  }
}

/**
 * `memcache-ha-native top`: every target's `stats` each refresh (plain `stats`, so a memcached
 * shows too; a node's `stats replication` and the proxy's `stats proxy` beside it), drawn as a
 * screen in a terminal, or as one line per target per refresh when stdout is not one.
 */
export async function runTop(argv: readonly string[]): Promise<void> {
  const cmd = parseTopArgs(argv);
  if (cmd.kind === 'help') return void process.stdout.write(TOP_HELP);
  const { targets, delayMs, iterations } = cmd.settings;
  const watchers = targets.map((t) => new Watcher(t));
  const out = process.stdout;
  const screen = out.isTTY === true;
  let finished = false;
  let wake: (() => void) | null = null;
  const finish = (): void => {
    finished = true;
    wake?.();
    // A refresh waiting on a slow target ends now, not at its deadline.
    for (const w of watchers) w.close();
  };
  const draw = (): void => {
    const states = watchers.map((w) => w.state);
    if (screen) {
      const lines = renderScreen(states, new Date().toTimeString().slice(0, 8), delayMs, out.columns ?? 80);
      out.write(HOME_CLEAR + lines.slice(0, Math.max(1, (out.rows ?? 24) - 1)).join('\n'));
    } else {
      const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      out.write(states.map((s) => `${renderLine(s, time)}\n`).join(''));
    }
  };

  process.on('SIGINT', finish);
  process.on('SIGTERM', finish);
  const keys = screen && process.stdin.isTTY === true;
  // The terminal goes back as it was on any way out, an exception included.
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (keys) process.stdin.setRawMode(false);
    if (screen) out.write(LEAVE);
  };
  process.on('exit', restore);
  if (screen) {
    out.write(ENTER);
    out.on('resize', draw);
  }
  if (keys) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', (d: Buffer) => {
      // q, Q, or ^C (raw mode turns it into a byte, not SIGINT).
      if (d.includes(0x71) || d.includes(0x51) || d.includes(0x03)) finish();
    });
  }
  try {
    await Promise.all(watchers.map((w) => w.refresh()));
    if (screen) draw();
    for (let n = 0; !finished && (iterations === null || n < iterations); n++) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (finished) break;
      await Promise.all(watchers.map((w) => w.refresh()));
      if (finished) break;
      draw();
    }
  } finally {
    for (const w of watchers) w.close();
    restore();
    process.stdin.pause();
    process.off('SIGINT', finish);
    process.off('SIGTERM', finish);
  }
}
