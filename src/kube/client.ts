/**
 * @module kube/client
 * The few Kubernetes API calls the adapter makes, over one keep-alive connection pool, with the
 * credentials of a kubeconfig (or the in-cluster service account).
 */
import { Agent, request, type RequestOptions } from "node:https";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { loadCredentials, type KubeCredentials } from "./kubeconfig.ts";

export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly status: number;
  readonly body: string;
  /** The metav1.Status' `reason` (e.g. `Forbidden`), when the body is one. */
  readonly reason: string | undefined;
  /** The metav1.Status' `message`, when the body is one: a 403's names the refused user. */
  readonly apiMessage: string | undefined;

  constructor(status: number, body: string, what: string) {
    let message = `${what}: HTTP ${String(status)}`;
    let reason: string | undefined;
    let apiMessage: string | undefined;
    try {
      const parsed = JSON.parse(body) as { message?: unknown; reason?: unknown };
      if (typeof parsed.message === "string" && parsed.message !== "") {
        apiMessage = parsed.message;
        message += `: ${parsed.message}`;
      }
      if (typeof parsed.reason === "string" && parsed.reason !== "") reason = parsed.reason;
    } catch {
      if (body) message += `: ${body.slice(0, 200)}`;
    }
    super(message);
    this.status = status;
    this.body = body;
    this.reason = reason;
    this.apiMessage = apiMessage;
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

  /**
   * GET a watch (or any newline-delimited JSON stream) and hand each line, parsed, to `onEvent` as
   * it arrives; the stream is never held whole. Resolves when the server ends the stream (e.g.
   * `timeoutSeconds` elapsed), rejects on a non-2xx answer (KubeApiError), a broken connection,
   * no bytes for `idleTimeoutMs` (a half-open connection would otherwise hang forever), or when
   * `signal` aborts. `onOpen` runs once the server has accepted the watch (2xx headers).
   */
  async stream(
    path: string,
    onEvent: (event: unknown) => void,
    options: {
      readonly signal?: AbortSignal;
      readonly idleTimeoutMs?: number;
      readonly onOpen?: () => void;
    } = {},
  ): Promise<void> {
    const url = new URL(path, this.server);
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": "k8s-custom-metrics",
    };
    const token = this.#creds.token?.();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    const idle = options.idleTimeoutMs ?? this.#timeoutMs;
    const opts: RequestOptions = { method: "GET", headers, agent: this.#agent, timeout: idle };
    if (options.signal) opts.signal = options.signal;
    const send = url.protocol === "http:" ? httpRequest : request;
    await new Promise<void>((resolve, reject) => {
      const req = send(url, opts, (r: IncomingMessage) => {
        const status = r.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => {
            reject(
              new KubeApiError(status, Buffer.concat(chunks).toString(), `GET ${url.pathname}`),
            );
          });
          r.on("error", reject);
          return;
        }
        options.onOpen?.();
        const decoder = new StringDecoder("utf8");
        let pending = "";
        const lines = (text: string) => {
          pending += text;
          let nl: number;
          while ((nl = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line !== "") onEvent(JSON.parse(line));
          }
        };
        r.on("data", (c: Buffer) => {
          try {
            lines(decoder.write(c));
          } catch (e) {
            // Rejected before the destroy, whose own errors would otherwise win the race.
            reject(e instanceof Error ? e : new Error(String(e)));
            req.destroy();
          }
        });
        r.on("end", () => {
          try {
            lines(decoder.end() + "\n");
            resolve();
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        r.on("error", reject);
        r.on("aborted", () => {
          reject(new Error(`GET ${url.pathname}: stream aborted`));
        });
      });
      req.on("timeout", () => req.destroy(new Error(`no data for ${String(idle)} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
