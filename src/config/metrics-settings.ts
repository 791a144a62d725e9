import { parseInteger } from './argv';
import { UsageError } from './usage-error';

/** --metrics-port and --metrics-listen (serve and proxy): Prometheus's endpoint, off by default. */
export interface MetricsSettings {
  port: number;
  /** Loopback unless given: metrics say a lot about a cache, and carry no authentication. */
  listen: string;
}

export const DEFAULT_METRICS_LISTEN = '127.0.0.1';

/** The flags' values as given (null: absent) into settings; --metrics-listen alone is refused. */
export function metricsSettings(port: string | null, listen: string | null): MetricsSettings | null {
  if (port === null) {
    if (listen !== null) throw new UsageError('--metrics-listen needs --metrics-port');
    return null;
  }
  if (listen !== null && listen.trim() === '') throw new UsageError('--metrics-listen: the address is empty');
  return { port: parseInteger(port, '--metrics-port', 0, 65535), listen: listen ?? DEFAULT_METRICS_LISTEN };
}
