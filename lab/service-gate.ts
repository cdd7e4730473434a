import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A door in front of a service on the host's loopback: a TCP forwarder from a port of its own to the service. Closing
 * it is what the service's clients see when the service stops: open connections are cut and new ones refused, until
 * it opens again on the same port. The service itself keeps its state (the lab's emulators hold it in memory, and a
 * real outage of SQS or DynamoDB loses nothing either).
 */
export class ServiceGate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly name: string,
    private readonly target: { readonly host: string; readonly port: number },
    readonly port: number,
  ) {}

  /** Opens a gate to `target` on a free loopback port. */
  static async start(name: string, target: { host: string; port: number }): Promise<ServiceGate> {
    const probe = createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    if (address === null || typeof address === 'string') throw new Error('no TCP address for the gate');
    const gate = new ServiceGate(name, target, address.port);
    await gate.open();
    return gate;
  }

  /** The URL of the service through the gate (`http://127.0.0.1:<port>`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isOpen(): boolean {
    return this.server !== undefined;
  }

  /** Lets clients through again, on the same port. */
  async open(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Stops the service for its clients: every open connection is reset, new ones are refused. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    await closed;
  }
}
