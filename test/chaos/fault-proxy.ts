/**
 * @module test/chaos/fault-proxy
 * A loopback TCP proxy in front of Prometheus that can act out its faults: `pass` forwards,
 * `refuse` closes the listening socket and every connection (what a stopped Prometheus looks like
 * from its address: connection refused), `delay` holds every byte Prometheus sends back for a
 * while (a slow Prometheus), and `hang` accepts connections and never answers (a stuck one).
 */
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";

export type FaultMode =
  | { readonly kind: "pass" }
  | { readonly kind: "refuse" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "hang" };

export interface FaultProxy {
  readonly url: string;
  /** Switches mode; existing connections are cut so the next request meets the new mode. */
  set(mode: FaultMode): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let mode: FaultMode = { kind: "pass" };
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const onConnection = (client: Socket) => {
    track(client);
    const m = mode;
    if (m.kind === "hang" || m.kind === "refuse") {
      client.resume(); // read and drop: never a byte back
      return;
    }
    const up = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    track(up);
    client.on("close", () => up.destroy());
    up.on("close", () => client.destroy());
    client.pipe(up);
    if (m.kind === "pass") {
      up.pipe(client);
      return;
    }
    up.on("data", (chunk: Buffer) => {
      setTimeout(() => {
        if (!client.destroyed) client.write(chunk);
      }, m.ms).unref();
    });
  };
  let server: Server = createServer(onConnection);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const listening = () => server.listening;

  const open = async () => {
    if (listening()) return;
    server = createServer(onConnection);
    // The port was ours a moment ago; retry briefly if the kernel has not released it yet.
    for (let attempt = 0; ; attempt++) {
      try {
        server.listen(port, "127.0.0.1");
        await once(server, "listening");
        return;
      } catch (e) {
        if (attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const close = async () => {
    if (!listening()) return;
    const closed = once(server, "close");
    server.close();
    for (const s of sockets) s.destroy();
    await closed;
  };

  return {
    url: `http://127.0.0.1:${String(port)}`,
    async set(next) {
      mode = next;
      for (const s of sockets) s.destroy();
      if (next.kind === "refuse") await close();
      else await open();
    },
    async stop() {
      await close();
    },
  };
}
