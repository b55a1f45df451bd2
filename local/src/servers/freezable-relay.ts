import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 whose open connections can be frozen in the server-to-client direction:
 * it stops reading from the server, so the client gets nothing and the server's writes back up,
 * while what the client sends still reaches the server and the connection stays open. New
 * connections flow. A network fault for tests and the chaos suite: a link that stalls without
 * closing, which neither side's TCP stack reports.
 */
export class FreezableRelay {
  private readonly links = new Set<{ client: Socket; upstream: Socket }>();
  private readonly server: Server;
  private target: { host: string; port: number } | undefined;
  /** Connections accepted so far; a client that reconnects shows up here. */
  accepted = 0;

  constructor() {
    this.server = createServer((client) => {
      if (!this.target) return client.destroy();
      this.accepted++;
      const upstream = connect(this.target.port, this.target.host);
      const link = { client, upstream };
      this.links.add(link);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        this.links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
  }

  /** Listens on a free port of 127.0.0.1 and returns it. */
  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  /** Where accepted connections go, e.g. `nats://127.0.0.1:4222`. */
  relayTo(url: string): void {
    const { hostname, port } = new URL(url);
    this.target = { host: hostname, port: Number(port) };
  }

  freezeOpenLinks(): number {
    for (const { client, upstream } of this.links) {
      upstream.unpipe(client);
      upstream.pause();
    }
    return this.links.size;
  }

  close(): void {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    this.server.close();
  }
}
