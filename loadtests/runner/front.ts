/**
 * The spawned mesh's front door: one TCP port in front of its routers, as a Kubernetes Service or a load
 * balancer is. Each new connection goes to the next router in rotation; a router taken out of rotation
 * (`remove`, before it is stopped) gets no new connection, while the ones it holds stay piped until
 * either side closes them. A router that refuses the connection closes the client's at once: clients
 * reconnect, as they would behind a real balancer.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface Backend {
  host: string;
  port: number;
}

export class Front {
  readonly #server: Server;
  #backends: Backend[] = [];
  #next = 0;
  readonly #sockets = new Set<Socket>();
  /** Connections piped to each backend so far, by `host:port`. */
  readonly accepted = new Map<string, number>();

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on an ephemeral port of 127.0.0.1 with `backends` in rotation. */
  static async start(backends: Backend[]): Promise<Front> {
    const server = createServer();
    const front = new Front(server);
    front.#backends = [...backends];
    server.on("connection", (client) => front.#pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return front;
  }

  /** `ws://127.0.0.1:<port>`. */
  get url(): string {
    const addr = this.#server.address();
    if (addr === null || typeof addr === "string") throw new Error("front is not listening");
    return `ws://127.0.0.1:${addr.port}`;
  }

  add(b: Backend): void {
    this.#backends.push(b);
  }

  remove(b: Backend): void {
    this.#backends = this.#backends.filter((x) => x.host !== b.host || x.port !== b.port);
  }

  #pipe(client: Socket): void {
    const b = this.#backends.length > 0 ? this.#backends[this.#next++ % this.#backends.length]! : null;
    if (b === null) {
      client.destroy();
      return;
    }
    const key = `${b.host}:${b.port}`;
    this.accepted.set(key, (this.accepted.get(key) ?? 0) + 1);
    const upstream = connect(b.port, b.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.#sockets.add(client).add(upstream);
    // A side that closed has its last bytes flushed to the other before that one ends too; an error
    // tears both down.
    const fail = () => (client.destroy(), upstream.destroy());
    client.on("error", fail).on("close", () => (upstream.end(), this.#sockets.delete(client)));
    upstream.on("error", fail).on("close", () => (client.end(), this.#sockets.delete(upstream)));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Host and port of a `ws://host:port` URL. */
export function backendOf(url: string): Backend {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) };
}
