import net from 'node:net';
import type { Logger } from '../../../log';
import type { Commands } from '../commands/execute';
import type { ConnectionCounters } from '../commands/counters';
import type { ConnectionInfo } from '../commands/stats';
import { Connection } from './connection';
import type { SyncGate } from './sync-gate';

const STOP_GRACE_MS = 5000;

/** The client listener: accepts up to -c connections and hands each to a Connection. */
export class Server {
  private readonly server: net.Server;
  private readonly open = new Map<net.Socket, Connection>();
  private nextId = 1;

  constructor(
    private readonly commands: Commands,
    private readonly counters: ConnectionCounters,
    private readonly maxConnections: number,
    private readonly log: Logger,
    private readonly gate: SyncGate | null,
  ) {
    this.server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 1024 }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  setAcknowledged(acked: number | null): void {
    this.gate?.setAcknowledged(acked);
  }

  describeConnections(): ConnectionInfo[] {
    return [...this.open.values()].map((c) => c.describe());
  }

  get port(): number {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Stops accepting, ends every connection after its composed replies, and waits for them to close. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.open.values()) conn.end();
    const timer = setTimeout(() => {
      for (const socket of this.open.keys()) socket.destroy();
    }, STOP_GRACE_MS);
    await closed;
    clearTimeout(timer);
  }

  private accept(socket: net.Socket): void {
    if (this.open.size >= this.maxConnections) {
      this.counters.rejectedConnections++;
      this.log.info(`refused a connection from ${socket.remoteAddress}:${socket.remotePort}: -c ${this.maxConnections} reached`);
      socket.on('error', () => socket.destroy());
      socket.end('ERROR Too many open connections\r\n');
      return;
    }
    this.counters.currConnections++;
    this.counters.totalConnections++;
    const id = this.nextId++;
    this.log.debug(`<${id} new client connection from ${socket.remoteAddress}:${socket.remotePort}`);
    this.open.set(socket, new Connection(socket, this.commands, this.counters, this.log, id, this.gate));
    socket.once('close', () => {
      this.open.delete(socket);
      this.counters.currConnections--;
      this.log.debug(`<${id} connection closed`);
    });
  }
}
