/**
 * @module kube/client
 * The few Kubernetes API calls the adapter makes, over one keep-alive connection pool, with the
 * credentials of a kubeconfig (or the in-cluster service account). A facade over
 * @kubernetes/client-node's configuration loading, so a later library swap stays here.
 */
import { createHash } from "node:crypto";
import { Agent, request, type RequestOptions } from "node:https";
import { request as httpRequest } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";

export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly status: number;
  readonly body: string;

  constructor(status: number, body: string, what: string) {
    let message = `${what}: HTTP ${String(status)}`;
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) message += `: ${parsed.message}`;
    } catch {
      if (body) message += `: ${body.slice(0, 200)}`;
    }
    super(message);
    this.status = status;
    this.body = body;
  }
}

export interface KubeClientOptions {
  /** A kubeconfig file; empty or undefined means in-cluster (service account), as upstream. */
  readonly kubeconfig?: string | undefined;
  readonly timeoutMs?: number;
}

export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

export class KubeClient {
  readonly #kc: KubeConfig;
  /** One keep-alive pool; rebuilt only if the kubeconfig's TLS material changes. */
  #agent: { key: string; agent: Agent } | undefined;
  readonly #timeoutMs: number;

  constructor(o: KubeClientOptions) {
    this.#kc = loadKubeConfig(o.kubeconfig);
    this.#timeoutMs = o.timeoutMs ?? 10_000;
  }

  get server(): string {
    return this.#kc.getCurrentCluster()?.server ?? "";
  }

  /** GET (or POST) a path of the API server and parse its JSON answer. */
  async json<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.server);
    const opts: RequestOptions = {
      method,
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      timeout: this.#timeoutMs,
    };
    await this.#kc.applyToHTTPSOptions(opts);
    // client-node builds a fresh agent per call, which would mean a TLS handshake per request.
    opts.agent = this.#agentFor(opts);
    const send = url.protocol === "http:" ? httpRequest : request;
    const text = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
        res.on("error", reject);
      });
      req.on("timeout", () =>
        req.destroy(new Error(`timeout after ${String(this.#timeoutMs)} ms`)),
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
    if (text.status < 200 || text.status >= 300) {
      throw new KubeApiError(text.status, text.body, `${method} ${url.pathname}`);
    }
    return JSON.parse(text.body) as T;
  }

  #agentFor(opts: RequestOptions): Agent {
    const tls = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      ...(opts.rejectUnauthorized === undefined
        ? {}
        : { rejectUnauthorized: opts.rejectUnauthorized }),
    };
    const key = createHash("sha256").update(JSON.stringify(tls)).digest("hex");
    if (this.#agent?.key !== key) {
      this.#agent?.agent.destroy();
      this.#agent = { key, agent: new Agent({ ...tls, keepAlive: true, maxSockets: 32 }) };
    }
    return this.#agent.agent;
  }

  close(): void {
    this.#agent?.agent.destroy();
  }
}
