import type { EngineChoice, Settings } from '../config/settings';
import type { Logger } from '../log';
import { StartupError } from '../startup-error';
import type { Engine, EngineHooks } from './engine';
import { loadAddon, type NativeAddon } from './native/addon';
import { NativeEngine } from './native/native-engine';
import { TsEngine } from './ts/ts-engine';

export interface EngineChoiceResult {
  engine: Engine;
  /** Why this engine runs, for the start-up line. */
  why: string;
}

/**
 * The addon as --engine asks for it: null for `ts`; for `auto`, null with a warning when it
 * does not load; for `native`, a StartupError when it does not load. Also says why, for the
 * start-up line. The node's engine and the proxy's data path choose the same way.
 */
export function chooseAddon(choice: EngineChoice, log: Logger): { addon: NativeAddon | null; why: string } {
  if (choice === 'ts') return { addon: null, why: 'asked for with --engine ts' };
  const loaded = loadAddon();
  if (loaded.ok) return { addon: loaded.addon, why: choice === 'native' ? 'asked for with --engine native' : 'the native addon loaded' };
  if (choice === 'native') throw new StartupError(`--engine native: the native addon did not load: ${loaded.reason}`);
  log.warn(`engine ts: the native addon did not load (${loaded.reason})`);
  return { addon: null, why: 'the native addon did not load' };
}

/** Picks the engine --engine asks for; `auto` prefers native, and a fallback is warned about. */
export function createEngine(settings: Settings, hooks: EngineHooks): EngineChoiceResult {
  const { addon, why } = chooseAddon(settings.engine, hooks.log);
  return { engine: addon ? new NativeEngine(addon, settings, hooks) : new TsEngine(settings, hooks), why };
}
