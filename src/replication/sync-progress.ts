/** How far a full sync, sent or received, has come: for `stats replication` and the log. */
export interface SyncProgress {
  items: number;
  total: number;
  bytes: number;
  startedAt: number;
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** A finished full sync for the log: items, size, duration. */
export function summary(p: SyncProgress): string {
  return `${p.items} items, ${mb(p.bytes)} in ${((Date.now() - p.startedAt) / 1000).toFixed(1)} s`;
}
