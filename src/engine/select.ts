import type { Settings } from '../config/settings';
import { StartupError } from '../startup-error';
import type { Engine, EngineHooks } from './engine';
import { TsEngine } from './ts/ts-engine';

const NATIVE_MISSING = 'the native engine is not part of this build yet';

/** Picks the engine --engine asks for; `auto` falls back to TypeScript and says why. */
export function createEngine(settings: Settings, hooks: EngineHooks): Engine {
  switch (settings.engine) {
    case 'native':
      throw new StartupError(`--engine native: ${NATIVE_MISSING}; use --engine ts or auto`);
    case 'auto':
      hooks.log.info(`engine ts (${NATIVE_MISSING})`);
      return new TsEngine(settings, hooks);
    case 'ts':
      hooks.log.info('engine ts (asked for with --engine ts)');
      return new TsEngine(settings, hooks);
  }
}
