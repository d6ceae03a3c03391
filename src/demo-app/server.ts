/**
 * @module demo-app/server
 * The demo workload: an HTTP server that counts its requests and exposes them, and a settable
 * queue depth, as Prometheus metrics. `GET /` is the work; `GET /burn?ms=N` burns CPU for N ms;
 * `PUT /queue?depth=N` sets the `queue_depth` gauge (for External metric scenarios).
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

export interface DemoAppOptions {
  readonly host: string;
  readonly port: number;
}

export function createDemoApp(): { server: Server; registry: Registry } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests served, by method and status code.",
    labelNames: ["method", "code"] as const,
    registers: [registry],
  });
  // Zero from the start, so a rate exists (and an HPA has a valid metric) before the first request.
  requests.inc({ method: "GET", code: "200" }, 0);
  const queue = new Gauge({
    name: "queue_depth",
    help: "Messages waiting in the demo queue (set with PUT /queue?depth=N).",
    registers: [registry],
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://demo");
    const done = (code: number, body: string) => {
      res.statusCode = code;
      res.setHeader("Content-Type", "text/plain");
      res.end(body);
      if (url.pathname !== "/metrics" && url.pathname !== "/healthz") {
        requests.inc({ method: req.method ?? "GET", code: String(code) });
      }
    };
    switch (url.pathname) {
      case "/metrics":
        void registry.metrics().then((text) => {
          res.setHeader("Content-Type", registry.contentType);
          res.end(text);
        });
        return;
      case "/healthz":
        done(200, "ok\n");
        return;
      case "/burn": {
        const ms = Math.min(Number(url.searchParams.get("ms") ?? "100") || 0, 10_000);
        const end = Date.now() + ms;
        let x = 0;
        while (Date.now() < end) x += Math.sqrt(x + 1);
        done(200, `burned ${String(ms)} ms\n`);
        return;
      }
      case "/queue": {
        const depth = Number(url.searchParams.get("depth"));
        if (req.method !== "PUT" || !Number.isFinite(depth)) {
          done(400, "use PUT /queue?depth=N\n");
          return;
        }
        queue.set(depth);
        done(200, `queue_depth=${String(depth)}\n`);
        return;
      }
      default:
        done(200, "hello from the k8s-custom-metrics demo app\n");
    }
  });
  return { server, registry };
}

export async function runDemoApp(o: DemoAppOptions): Promise<Server> {
  const { server } = createDemoApp();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, resolve);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  return server;
}
