/**
 * @module harness/node-agent/service-proxy
 * Services on loopback, as kube-proxy's userspace mode ran them: the local cluster's Service range
 * is a loopback /20, so a ClusterIP is an address of this machine, and the node agent listens on
 * `<clusterIP>:<port>` for every Service port and copies each connection to one ready endpoint
 * (round robin; a refused dial tries the next endpoint, as the userspace proxier did). The
 * aggregator's ClusterIP resolver (`--enable-aggregator-routing=false`) dials exactly that address.
 *
 * The endpoints come from the Service's EndpointSlices (ready endpoints, the port of the same
 * name), as kube-proxy's come; those of this node's pods are dropped at once when the node agent
 * sees a container exit or fail its readiness probe, before the slice is rewritten.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type * as k8s from "@kubernetes/client-node";
import { addressIp } from "./endpoint-slices.ts";

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export interface ProxiedPort {
  /** `namespace/name:port` for logs. */
  readonly service: string;
  readonly ip: string;
  readonly port: number;
  readonly endpoints: readonly Endpoint[];
}

const isLoopback = (ip: string | undefined): ip is string => ip?.startsWith("127.") === true;

/**
 * The ports to proxy: pure. `down` holds endpoint IPs known not to serve any more (a container of
 * this node that exited), which the slices may still list for a moment.
 */
export function proxiedPorts(
  services: readonly k8s.V1Service[],
  slices: readonly k8s.V1EndpointSlice[],
  down: ReadonlySet<string>,
): ProxiedPort[] {
  const out: ProxiedPort[] = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!isLoopback(ip)) continue;
    const ns = svc.metadata?.namespace ?? "";
    const name = svc.metadata?.name ?? "";
    const own = slices.filter(
      (s) =>
        s.metadata?.namespace === ns && s.metadata.labels?.["kubernetes.io/service-name"] === name,
    );
    for (const sp of svc.spec?.ports ?? []) {
      if ((sp.protocol ?? "TCP") !== "TCP") continue;
      const endpoints: Endpoint[] = [];
      for (const s of own) {
        const port = s.ports?.find((p) => (p.name ?? "") === (sp.name ?? ""))?.port;
        if (port === undefined) continue;
        for (const e of (s.endpoints as k8s.V1Endpoint[] | null) ?? []) {
          if (e.conditions?.ready === false) continue;
          const addr = e.addresses[0];
          const epIp = addr === undefined ? undefined : addressIp(addr);
          if (!isLoopback(epIp) || down.has(epIp)) continue;
          endpoints.push({ ip: epIp, port });
        }
      }
      endpoints.sort((a, b) =>
        `${a.ip}:${String(a.port)}`.localeCompare(`${b.ip}:${String(b.port)}`),
      );
      out.push({
        service: `${ns}/${name}:${sp.name ?? String(sp.port)}`,
        ip,
        port: sp.port,
        endpoints,
      });
    }
  }
  return out;
}

interface Listener {
  readonly server: Server;
  endpoints: readonly Endpoint[];
  next: number;
  readonly sockets: Set<Socket>;
}

export class ServiceProxy {
  readonly #listeners = new Map<string, Listener>();
  readonly #log: (msg: string, fields?: Record<string, unknown>) => void;

  constructor(log: (msg: string, fields?: Record<string, unknown>) => void) {
    this.#log = log;
  }

  /** Opens, updates and closes listeners to match `ports`. */
  async update(ports: readonly ProxiedPort[]): Promise<void> {
    const want = new Map(ports.map((p) => [`${p.ip}:${String(p.port)}`, p]));
    for (const [key, l] of this.#listeners) {
      if (!want.has(key)) {
        this.#listeners.delete(key);
        l.server.close();
        for (const s of l.sockets) s.destroy();
        this.#log("service proxy closed", { address: key });
      }
    }
    for (const [key, p] of want) {
      const existing = this.#listeners.get(key);
      if (existing) {
        if (JSON.stringify(existing.endpoints) !== JSON.stringify(p.endpoints)) {
          this.#log("service endpoints", {
            service: p.service,
            endpoints: p.endpoints.map((e) => `${e.ip}:${String(e.port)}`),
          });
        }
        existing.endpoints = p.endpoints;
        continue;
      }
      const l: Listener = {
        server: createServer(),
        endpoints: p.endpoints,
        next: 0,
        sockets: new Set(),
      };
      l.server.on("connection", (client) => {
        this.#serve(l, client);
      });
      try {
        await new Promise<void>((resolve, reject) => {
          l.server.once("error", reject);
          l.server.listen(p.port, p.ip, resolve);
        });
      } catch (e) {
        this.#log("service proxy cannot listen", { address: key, err: String(e) });
        continue;
      }
      l.server.on("error", (e) => {
        this.#log("service proxy error", { address: key, err: String(e) });
      });
      this.#listeners.set(key, l);
      this.#log("service proxy listening", {
        service: p.service,
        address: key,
        endpoints: p.endpoints.map((e) => `${e.ip}:${String(e.port)}`),
      });
    }
  }

  async close(): Promise<void> {
    await this.update([]);
  }

  #serve(l: Listener, client: Socket): void {
    l.sockets.add(client);
    client.pause();
    const candidates = l.endpoints.length;
    let tried = 0;
    const attempt = (): void => {
      if (tried >= Math.max(candidates, 1) || l.endpoints.length === 0 || client.destroyed) {
        client.destroy();
        l.sockets.delete(client);
        return;
      }
      tried++;
      const ep = l.endpoints[l.next++ % l.endpoints.length];
      if (!ep) {
        client.destroy();
        return;
      }
      const upstream = connect({ host: ep.ip, port: ep.port });
      const onDialError = (): void => {
        upstream.destroy();
        attempt();
      };
      upstream.once("error", onDialError);
      upstream.once("connect", () => {
        upstream.off("error", onDialError);
        l.sockets.add(upstream);
        // A clean close is passed on as a FIN once what is buffered has been written (pipe ends
        // the other side); only a reset is passed on as a reset. Destroying on every close would
        // drop the last bytes in flight, such as the HTTP/2 GOAWAY of a pod shutting down.
        const pass = (from: Socket, to: Socket) => {
          from.once("close", (hadError) => {
            l.sockets.delete(from);
            if (hadError) to.destroy();
            else to.end();
          });
          from.on("error", () => {
            to.destroy();
          });
        };
        pass(upstream, client);
        pass(client, upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    client.on("error", () => {
      client.destroy();
    });
    attempt();
  }
}
