import type { Settings } from '../config/settings';
import { StartupError } from '../startup-error';
import type { Engine, EngineHooks } from './engine';
import { loadAddon } from './native/addon';
import { NativeEngine } from './native/native-engine';
import { TsEngine } from './ts/ts-engine';

export interface EngineChoiceResult {
  engine: Engine;
  /** Why this engine runs, for the start-up line. */
  why: string;
}

/** Picks the engine --engine asks for; `auto` prefers native, and a fallback is warned about. */
export function createEngine(settings: Settings, hooks: EngineHooks): EngineChoiceResult {
  if (settings.engine === 'ts') return { engine: new TsEngine(settings, hooks), why: 'asked for with --engine ts' };
  const loaded = loadAddon();
  if (loaded.ok) {
    const why = settings.engine === 'native' ? 'asked for with --engine native' : 'the native addon loaded';
    return { engine: new NativeEngine(loaded.addon, settings, hooks), why };
  }
  if (settings.engine === 'native') throw new StartupError(`--engine native: the native addon did not load: ${loaded.reason}`);
  hooks.log.warn(`engine ts: the native addon did not load (${loaded.reason})`);
  return { engine: new TsEngine(settings, hooks), why: 'the native addon did not load' };
}
