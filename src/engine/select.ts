import type { Settings } from '../config/settings';
import { StartupError } from '../startup-error';
import type { Engine, EngineHooks } from './engine';
import { loadAddon } from './native/addon';
import { NativeEngine } from './native/native-engine';
import { TsEngine } from './ts/ts-engine';

/** Picks the engine --engine asks for; `auto` prefers native and says which runs and why. */
export function createEngine(settings: Settings, hooks: EngineHooks): Engine {
  if (settings.engine === 'ts') {
    hooks.log.info('engine ts (asked for with --engine ts)');
    return new TsEngine(settings, hooks);
  }
  const loaded = loadAddon();
  if (loaded.ok) {
    hooks.log.info(`engine native (${settings.engine === 'native' ? 'asked for with --engine native' : 'the addon loaded'})`);
    return new NativeEngine(loaded.addon, settings, hooks);
  }
  if (settings.engine === 'native') throw new StartupError(`--engine native: the native addon did not load: ${loaded.reason}`);
  hooks.log.warn(`engine ts: the native addon did not load (${loaded.reason})`);
  return new TsEngine(settings, hooks);
}
