/**
 * @module test/chaos/observe
 * What the fault suite reads about the processes of the local cluster: a supervised component's
 * pid, a process's RSS and open file descriptors from /proc, and the kube-apiserver's answers with
 * the admin certificate (for the seed HPA's Deployment and readiness).
 */
import { readdir, readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { statePaths } from "../../src/harness/paths.ts";
import { Supervisor } from "../../src/harness/supervisor.ts";

export async function componentPid(info: ClusterInfo, name: string): Promise<number | undefined> {
  const p = statePaths(info.stateDir);
  const c = (await new Supervisor(p.logs, p.run).list()).find((x) => x.name === name);
  return c?.alive === true ? c.pid : undefined;
}

export interface Usage {
  readonly rssMb: number;
  readonly fds: number;
}

/** RSS (VmRSS) and the number of open fds of `pid`; undefined if it is gone. */
export async function usage(pid: number): Promise<Usage | undefined> {
  try {
    const status = await readFile(`/proc/${String(pid)}/status`, "utf8");
    const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? "NaN");
    const fds = (await readdir(`/proc/${String(pid)}/fd`)).length;
    return { rssMb: kb / 1024, fds };
  } catch {
    return undefined;
  }
}

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/** HTTPS to the kube-apiserver as the cluster admin, kept-alive. */
export class KubeAdmin {
  readonly #info: ClusterInfo;
  readonly #agent: Agent;

  private constructor(info: ClusterInfo, agent: Agent) {
    this.#info = info;
    this.#agent = agent;
  }

  static async create(info: ClusterInfo): Promise<KubeAdmin> {
    const [ca, cert, key] = await Promise.all([
      readFile(info.pki.caCert, "utf8"),
      readFile(info.pki.adminCert, "utf8"),
      readFile(info.pki.adminKey, "utf8"),
    ]);
    return new KubeAdmin(info, new Agent({ ca, cert, key, keepAlive: true, maxSockets: 256 }));
  }

  /** GET `path`; rejects with the socket error (ECONNREFUSED…) or "timeout". */
  get(path: string, timeoutMs = 30_000): Promise<KubeResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.#info.server}${path}`,
        { agent: this.#agent, timeout: timeoutMs },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (body += d));
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, body });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end();
    });
  }

  async ok(path: string): Promise<boolean> {
    try {
      return (await this.get(path, 5_000)).status === 200;
    } catch {
      return false;
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
