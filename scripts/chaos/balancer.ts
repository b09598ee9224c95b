import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP load balancer in front of the gateway nodes, as a real deployment has one: each new connection goes to
 * a random node that accepts it, and a dead node is skipped. No stickiness: a client that reconnects lands
 * wherever the balancer sends it, which is what resume by seq must survive.
 */
export class Balancer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly backends: number[]) {
    this.server = createServer((client) => this.route(client));
  }

  static async start(backends: number[]): Promise<Balancer> {
    const balancer = new Balancer(backends);
    await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve));
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(client: Socket): void {
    client.pause();
    this.track(client);
    const order = [...this.backends].sort(() => Math.random() - 0.5);
    const tryNext = (): void => {
      const port = order.shift();
      if (port === undefined) {
        client.destroy();
        return;
      }
      const upstream = connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('error', () => {
        if (!connected) tryNext();
      });
      upstream.once('connect', () => {
        connected = true;
        this.track(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryNext();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
