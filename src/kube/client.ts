/**
 * @module kube/client
 * The few Kubernetes API calls the adapter makes, over one keep-alive connection pool (undici),
 * with the credentials of a kubeconfig (or the in-cluster service account).
 */
import { StringDecoder } from "node:string_decoder";
import type { Dispatcher, Pool } from "undici";
import { createPool, isTimeout, nodeError, requestPath } from "../http/client.ts";
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

/**
 * A KubeClient's JSON call as code that needs nothing else takes it: a fake in a unit test is a
 * plain object with one method.
 */
export interface KubeJson {
  json(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    options?: { readonly accept?: string },
  ): Promise<unknown>;
}

export class KubeClient implements KubeJson {
  readonly #creds: KubeCredentials;
  readonly #pool: Pool;
  readonly #timeoutMs: number;

  constructor(o: KubeClientOptions) {
    this.#creds = loadCredentials(o.kubeconfig);
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#pool = createPool(new URL(this.#creds.server).origin, {
      connections: 32,
      timeoutMs: this.#timeoutMs,
      // Idle connections stay from one call to the next (the API server keeps them for 90 s).
      keepAliveMs: 60_000,
      tls: {
        ca: this.#creds.ca,
        cert: this.#creds.cert,
        key: this.#creds.key,
        insecure: this.#creds.insecureSkipTlsVerify,
      },
    });
  }

  get server(): string {
    return this.#creds.server;
  }

  #headers(accept: string): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: accept,
      "User-Agent": "k8s-custom-metrics",
    };
    const token = this.#creds.token?.();
    if (token) headers["Authorization"] = `Bearer ${token}`;
    return headers;
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
    const headers = this.#headers(options.accept ?? "application/json");
    headers["Content-Type"] = "application/json";
    let phase: "response" | "body" = "response";
    let status: number;
    let text: string;
    try {
      const res = await this.#pool.request({
        method,
        path: requestPath(url),
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
      phase = "body";
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      if (isTimeout(e))
        throw new Error(`timeout after ${String(this.#timeoutMs)} ms`, { cause: e });
      throw nodeError(e, phase);
    }
    if (status < 200 || status >= 300) {
      throw new KubeApiError(status, text, `${method} ${url.pathname}`);
    }
    return JSON.parse(text) as T;
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
    const idle = options.idleTimeoutMs ?? this.#timeoutMs;
    const { signal } = options;
    // A silence past `idle` is said as such; anything else as Node's client said it.
    const failed = (e: unknown, phase: "response" | "body"): Error =>
      isTimeout(e)
        ? new Error(`no data for ${String(idle)} ms`, { cause: e })
        : nodeError(e, phase, signal);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#pool.request({
        method: "GET",
        path: requestPath(url),
        headers: this.#headers("application/json"),
        headersTimeout: idle,
        bodyTimeout: idle,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (e) {
      throw failed(e, "response");
    }
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      let text: string;
      try {
        text = await res.body.text();
      } catch (e) {
        throw failed(e, "body");
      }
      throw new KubeApiError(status, text, `GET ${url.pathname}`);
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
    // A failure of onEvent (or of a line's JSON) is the caller's: it ends the loop, which
    // destroys the body, and is rethrown as it is.
    let failure: { e: unknown } | undefined;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        try {
          lines(decoder.write(chunk));
        } catch (e) {
          failure = { e };
          break;
        }
      }
    } catch (e) {
      // The server closed the connection before the stream's end, as Node's 'aborted' event
      // reported it; a reset or our own abort are told as Node told them.
      if (signal?.aborted !== true && (e as { code?: unknown } | null)?.code === "UND_ERR_SOCKET") {
        throw new Error(`GET ${url.pathname}: stream aborted`, { cause: e });
      }
      throw failed(e, "body");
    }
    if (failure !== undefined) {
      throw failure.e instanceof Error ? failure.e : new Error(String(failure.e));
    }
    lines(decoder.end() + "\n");
  }

  close(): void {
    // In-flight requests fail at once, as with Node's agent.destroy().
    void this.#pool.destroy().catch(() => undefined);
  }
}
