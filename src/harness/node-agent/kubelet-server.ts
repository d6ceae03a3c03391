/**
 * @module harness/node-agent/kubelet-server
 * The node's HTTP port on 127.0.0.1, as a kubelet's: `/healthz`, cAdvisor and resource metrics of
 * the running containers (read from /proc), and `/pods` (the agent's view, for debugging).
 */
import { createServer, type Server } from "node:http";
import { cadvisorText, resourceText, type ContainerSample } from "./exposition.ts";
import type { AgentState } from "./runtime.ts";

function samples(state: AgentState): ContainerSample[] {
  const out: ContainerSample[] = [];
  for (const p of state.pods.values()) {
    for (const [name, c] of p.containers) {
      if (!c.child || c.startedAt === undefined) continue;
      out.push({
        namespace: p.namespace,
        pod: p.name,
        podUid: p.uid,
        container: name,
        image: c.spec.image ?? "",
        pid: c.pid,
        startedAt: c.startedAt.getTime(),
      });
    }
  }
  return out;
}

function debugPods(state: AgentState): unknown {
  return [...state.pods.values()].map((p) => ({
    namespace: p.namespace,
    name: p.name,
    ip: p.ip,
    containers: [...p.containers].map(([n, c]) => ({
      name: n,
      pid: c.pid,
      ready: c.ready,
      restartCount: c.restartCount,
      waiting: c.waiting,
    })),
  }));
}

export class KubeletServer {
  readonly #state: AgentState;
  #server: Server | undefined;

  constructor(state: AgentState) {
    this.#state = state;
  }

  async listen(port: number): Promise<void> {
    this.#server = createServer((req, res) => {
      const url = req.url ?? "/";
      if (url === "/healthz") {
        res.end("ok");
      } else if (url.startsWith("/metrics/cadvisor")) {
        res.setHeader("Content-Type", "text/plain; version=0.0.4");
        res.end(cadvisorText(samples(this.#state)));
      } else if (url.startsWith("/metrics/resource")) {
        res.setHeader("Content-Type", "text/plain; version=0.0.4");
        res.end(resourceText(samples(this.#state)));
      } else if (url === "/pods") {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify(debugPods(this.#state), null, 2));
      } else {
        res.statusCode = 404;
        res.end("not found\n");
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.#server?.once("error", reject);
      this.#server?.listen(port, "127.0.0.1", resolve);
    });
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#server)
        this.#server.close(() => {
          resolve();
        });
      else resolve();
    });
  }
}
