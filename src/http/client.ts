/**
 * @module http/client
 * The one HTTP client stack of the adapter and the harness (the API server, kubelets, probes, the
 * load tool, `doctor`): undici dispatchers that keep connections alive, one per target or per set
 * of TLS options, and undici's failures given back as Node's `http` client gave them, so callers
 * see the messages and codes they always saw (retries test `ECONNRESET`, tests match texts).
 * The Prometheus client (src/prometheus/) is on undici too, with its own error model.
 */
import type { SecureContext } from "node:tls";
import type { Agent as AgentClass, Dispatcher } from "undici";
import { Agent, Pool } from "./undici.ts";

export interface ClientTls {
  readonly ca?: string | Buffer | undefined;
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
  /** One context for every connection, instead of ca/cert/key parsed again per connection. */
  readonly secureContext?: SecureContext | undefined;
  /** Do not verify the server's certificate (`insecure-skip-tls-verify`, probes). */
  readonly insecure?: boolean | undefined;
  /** The TLS server name (SNI and the name checked), when it is not the URL's host. */
  readonly servername?: string | undefined;
}

export interface DispatcherOptions {
  readonly tls?: ClientTls | undefined;
  /** Connections per origin (Node's `maxSockets`); default: no limit. */
  readonly connections?: number | undefined;
  /**
   * Bounds connecting, waiting for the headers and each silence in the body, as Node's `timeout`
   * (socket inactivity) did; a request may set its own headers and body timeouts.
   */
  readonly timeoutMs?: number | undefined;
  /** How long an idle connection is kept (a server's Keep-Alive hint wins); default 4 s. */
  readonly keepAliveMs?: number | undefined;
  /** Bodies larger than this fail (`UND_ERR_RES_EXCEEDED_MAX_SIZE`); default: no limit. */
  readonly maxResponseBytes?: number | undefined;
}

function dispatcherOptions(o: DispatcherOptions): AgentClass.Options {
  const tls = o.tls ?? {};
  const connect: Record<string, unknown> = {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.secureContext === undefined ? {} : { secureContext: tls.secureContext }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.insecure !== true,
    // Node's http client had no connect timeout of its own: only the caller's bound applies.
    timeout: o.timeoutMs ?? 0,
  };
  return {
    connect,
    // 0 turns undici's 300 s defaults off where the caller sets no bound, as Node's client had.
    headersTimeout: o.timeoutMs ?? 0,
    bodyTimeout: o.timeoutMs ?? 0,
    ...(o.connections === undefined ? {} : { connections: o.connections }),
    ...(o.keepAliveMs === undefined ? {} : { keepAliveTimeout: o.keepAliveMs }),
    ...(o.maxResponseBytes === undefined ? {} : { maxResponseSize: o.maxResponseBytes }),
  };
}

/** A keep-alive pool of connections to one origin (the API server). */
export function createPool(origin: string, o: DispatcherOptions = {}): Pool {
  return new Pool(origin, dispatcherOptions(o));
}

/** A keep-alive pool per origin it is asked for (kubelets, pods). */
export function createAgent(o: DispatcherOptions = {}): Agent {
  return new Agent(dispatcherOptions(o));
}

const shared = new Map<string, Agent>();

/**
 * An agent shared by every one-shot caller asking with the same options (probes, `doctor`), so
 * repeated calls reuse connections as Node's global agent let them. Idle connections do not keep
 * the process alive (undici unrefs them).
 */
export function sharedAgent(
  o: DispatcherOptions & { readonly tls?: Omit<ClientTls, "secureContext"> } = {},
): Agent {
  const t = o.tls ?? {};
  const key = JSON.stringify([
    String(t.ca ?? ""),
    String(t.cert ?? ""),
    String(t.key ?? ""),
    t.insecure === true,
    t.servername ?? "",
    o.timeoutMs ?? 0,
    o.connections ?? 0,
    o.keepAliveMs ?? 0,
    o.maxResponseBytes ?? 0,
  ]);
  let agent = shared.get(key);
  if (agent === undefined) {
    agent = createAgent(o);
    shared.set(key, agent);
  }
  return agent;
}

const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Whether undici gave up on a connect, the headers or a silent body (the dispatcher's bounds). */
export function isTimeout(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && TIMEOUT_CODES.has(code);
}

function coded(message: string, code: string, name: string, cause: unknown): Error {
  const e = new Error(message, { cause }) as Error & { code: string };
  e.code = code;
  e.name = name;
  return e;
}

/**
 * What Node's http client would have thrown for an undici failure of one request: a connection
 * the server closed is `ECONNRESET` ("socket hang up" before the answer, "aborted" in its body),
 * a request stopped by its signal an `AbortError` (`ABORT_ERR`). Errors of the socket itself
 * (`ECONNREFUSED`, TLS, DNS) come through undici unchanged, as do the caller's own.
 */
export function nodeError(e: unknown, phase: "response" | "body", signal?: AbortSignal): Error {
  if (signal?.aborted === true) {
    return coded("The operation was aborted", "ABORT_ERR", "AbortError", signal.reason);
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "UND_ERR_SOCKET") {
    return coded(phase === "response" ? "socket hang up" : "aborted", "ECONNRESET", "Error", e);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** The request's `path` for a URL: its path and query. */
export function requestPath(url: URL): string {
  return `${url.pathname}${url.search}`;
}

export type { Dispatcher };
