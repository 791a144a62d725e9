import type { Logger } from '../log';

export type EngineName = 'native' | 'ts';

export interface BoundAddress {
  host: string;
  port: number;
}

/** What a node needs from an engine: the data path behind one client listener. */
export interface Engine {
  readonly name: EngineName;
  start(): Promise<BoundAddress>;
  /** Stops accepting, lets the replies already composed go out, closes every connection. */
  stop(): Promise<void>;
}

export interface EngineHooks {
  readonly log: Logger;
  /** The `shutdown` command (enabled by -A) asks the node to stop. */
  requestShutdown(graceful: boolean): void;
}

