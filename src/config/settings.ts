/** Validated configuration of one cache node; the only shape that crosses from the CLI into a node. */
export type EngineChoice = 'auto' | 'native' | 'ts';

export interface Settings {
  port: number;
  listen: string;
  maxBytes: number;
  maxConnections: number;
  threads: number;
  itemSizeMax: number;
  verbosity: number;
  daemonize: boolean;
  pidFile: string | null;
  user: string | null;
  evictions: boolean;
  casEnabled: boolean;
  shutdownEnabled: boolean;
  flushEnabled: boolean;
  engine: EngineChoice;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  port: 11211,
  listen: '127.0.0.1',
  maxBytes: 64 * 1024 * 1024,
  maxConnections: 1024,
  threads: 4,
  itemSizeMax: 1024 * 1024,
  verbosity: 0,
  daemonize: false,
  pidFile: null,
  user: null,
  evictions: true,
  casEnabled: true,
  shutdownEnabled: false,
  flushEnabled: true,
  engine: 'auto',
};
