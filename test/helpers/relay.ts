import net from 'node:net';

/**
 * A TCP relay between a replication dialler and its peer, for failure injection: cut() drops
 * every relayed connection (the dialler reconnects through the relay), partition() also
 * refuses new ones for a while; both heal by themselves, or at heal().
 */
export class Relay {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private blockedUntil = 0;
  cuts = 0;

  private constructor(private readonly server: net.Server, readonly port: number) {}

  /** `delayMs` holds every chunk that long in each direction (order kept): a slow network. */
  static async start(targetPort: number, host = '127.0.0.1', delayMs = 0): Promise<Relay> {
    let relay: Relay | null = null;
    const server = net.createServer((inbound) => {
      if (Date.now() < relay!.blockedUntil) {
        inbound.destroy();
        return;
      }
      const outbound = net.connect({ port: targetPort, host });
      const pair: [net.Socket, net.Socket] = [inbound, outbound];
      relay!.pairs.add(pair);
      const drop = (): void => {
        inbound.destroy();
        outbound.destroy();
        relay!.pairs.delete(pair);
      };
      inbound.on('error', drop).on('close', drop);
      outbound.on('error', drop).on('close', drop);
      if (delayMs === 0) {
        inbound.pipe(outbound);
        outbound.pipe(inbound);
      } else {
        const forward = (from: net.Socket, to: net.Socket): void => {
          from.on('data', (d: Buffer) => setTimeout(() => to.destroyed || to.write(d), delayMs));
        };
        forward(inbound, outbound);
        forward(outbound, inbound);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    relay = new Relay(server, (server.address() as net.AddressInfo).port);
    return relay;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Cuts, and refuses new connections for `ms`: a partition both sides keep writing through. */
  partition(ms: number): void {
    this.blockedUntil = Date.now() + ms;
    this.cut();
  }

  /** Ends a partition now: new connections are relayed again. */
  heal(): void {
    this.blockedUntil = 0;
  }

  cut(): void {
    this.cuts++;
    for (const [a, b] of [...this.pairs]) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
