import type { LinkCounters } from './link';
import type { SyncProgress } from './sync-progress';

export interface ReplicationView {
  role: string;
  nodeId: number;
  runId: string;
  peer: string;
  peerNodeId: number;
  state: string;
  mode: string;
  syncDegraded: boolean;
  serving: boolean;
  peerAcked: number;
  lag: { records: number; ms: number };
  backlogBytes: number;
  backlogSize: number;
  backlogStart: number;
  appliedOffset: number;
  sendProgress: SyncProgress | null;
  receiveProgress: SyncProgress | null;
  counters: LinkCounters;
  linkDrops: number;
  refusedLinks: number;
}

/** `stats replication`, as STAT lines (the engine appends END). */
export function renderReplicationStats(v: ReplicationView): string {
  const c = v.counters;
  const lines: [string, string | number][] = [
    ['role', v.role],
    ['node_id', v.nodeId],
    ['run_id', v.runId],
    ['peer', v.peer || 'none'],
    ['peer_node_id', v.peerNodeId],
    ['state', v.state],
    ['mode', v.mode],
    ['sync_degraded', v.syncDegraded ? 1 : 0],
    ['serving', v.serving ? 'yes' : 'no'],
    ['peer_acked_offset', v.peerAcked],
    ['applied_offset', v.appliedOffset],
    ['lag_records', v.lag.records],
    ['lag_ms', v.lag.ms],
    ['backlog_bytes', v.backlogBytes],
    ['backlog_size', v.backlogSize],
    ['backlog_first_offset', v.backlogStart],
    ['full_syncs_sent', c.fullSyncsSent],
    ['full_syncs_received', c.fullSyncsReceived],
    ['partial_syncs_sent', c.partialSyncsSent],
    ['partial_syncs_received', c.partialSyncsReceived],
    ['sync_send_progress', progress(v.sendProgress)],
    ['sync_receive_progress', progress(v.receiveProgress)],
    ['bytes_sent', c.bytesSent],
    ['bytes_received', c.bytesReceived],
    ['link_drops', v.linkDrops],
    ['refused_links', v.refusedLinks],
  ];
  return lines.map(([k, val]) => `STAT ${k} ${val}\r\n`).join('');
}

function progress(p: SyncProgress | null): string {
  return p ? `${p.items}/${p.total}` : 'none';
}
