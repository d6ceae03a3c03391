/**
 * @module kube/client
 * The few Kubernetes API calls the adapter makes, over one keep-alive connection pool, with the
 * credentials of a kubeconfig (or the in-cluster service account).
 */
import { Agent, request, type RequestOptions } from "node:https";
import { request as httpRequest } from "node:http";
import { loadCredentials, type KubeCredentials } from "./kubeconfig.ts";

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

export class KubeClient {
  readonly #creds: KubeCredentials;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(o: KubeClientOptions) {
    this.#creds = loadCredentials(o.kubeconfig);
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      ...(this.#creds.ca === undefined ? {} : { ca: this.#creds.ca }),
      ...(this.#creds.cert === undefined ? {} : { cert: this.#creds.cert }),
      ...(this.#creds.key === undefined ? {} : { key: this.#creds.key }),
      rejectUnauthorized: !this.#creds.insecureSkipTlsVerify,
    });
  }

  get server(): string {
    return this.#creds.server;
  }

  /**
   * GET (or POST) a path of the API server and parse its JSON answer. `accept` replaces the
   * default `application/json`, e.g. to ask for a PartialObjectMetadataList.
   */
  async json<T>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    options: { readonly accept?: string } = {},
  ): Promise<T> {
    const url = new URL(path, this.server);
    const headers: Record<string, string> = {
      Accept: options.accept ?? "application/json",
      "Content-Type": "application/json",
      "User-Agent": "k8s-custom-metrics",
    };
    const token = this.#creds.token?.();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const opts: RequestOptions = { method, headers, agent: this.#agent, timeout: this.#timeoutMs };
    const send = url.protocol === "http:" ? httpRequest : request;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = send(url, opts, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => {
          resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
        r.on("error", reject);
      });
      req.on("timeout", () =>
        req.destroy(new Error(`timeout after ${String(this.#timeoutMs)} ms`)),
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
    if (res.status < 200 || res.status >= 300) {
      throw new KubeApiError(res.status, res.body, `${method} ${url.pathname}`);
    }
    return JSON.parse(res.body) as T;
  }

  close(): void {
    this.#agent.destroy();
  }
}
