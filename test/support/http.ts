/**
 * @module test/support/http
 * HTTP(S) GETs for real-process tests and benches, on undici as the adapter's own clients:
 * {@link httpsGet} on a fresh connection (its own TLS handshake, as a new client would make), and
 * {@link getText} through a caller's keep-alive dispatcher (a load loop's connections).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { Client, type Dispatcher } from "undici";
import { isTimeout, nodeError } from "../../src/http/client.ts";

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly headers: IncomingHttpHeaders;
}

export interface HttpsGetOptions {
  /** `https://host:port`; or host and port. */
  readonly url?: string;
  readonly host?: string;
  readonly port?: number | string;
  /** Path and query; default: the URL's. */
  readonly path?: string;
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Skip the certificate check (a throw-away self-signed serving certificate). */
  readonly insecure?: boolean;
  readonly servername?: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Bounds connecting, the headers and each silence in the body; default 20 s. */
  readonly timeoutMs?: number;
}

function headersOf(h: OutgoingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

/** One HTTPS GET on a connection of its own, closed after; `timed out: GET <path>` on silence. */
export async function httpsGet(o: HttpsGetOptions): Promise<Reply> {
  const u = o.url === undefined ? undefined : new URL(o.url);
  const host = o.host ?? u?.hostname ?? "127.0.0.1";
  const port = String(o.port ?? u?.port ?? 443);
  const path = o.path ?? (u === undefined ? "/" : `${u.pathname}${u.search}`);
  const timeoutMs = o.timeoutMs ?? 20_000;
  const client = new Client(`https://${host.includes(":") ? `[${host}]` : host}:${port}`, {
    connect: {
      timeout: timeoutMs,
      rejectUnauthorized: o.insecure !== true,
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      ...(o.cert === undefined ? {} : { cert: o.cert }),
      ...(o.key === undefined ? {} : { key: o.key }),
      ...(o.servername === undefined ? {} : { servername: o.servername }),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  let phase: "response" | "body" = "response";
  try {
    const res = await client.request({
      path,
      method: "GET",
      headers: headersOf(o.headers ?? {}),
    });
    phase = "body";
    return {
      status: res.statusCode,
      text: await res.body.text(),
      headers: res.headers,
    };
  } catch (e) {
    if (isTimeout(e)) throw new Error(`timed out: GET ${path}`, { cause: e });
    // ECONNRESET and the rest as Node's https client gave them (tests match on codes).
    throw nodeError(e, phase);
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/**
 * A GET through `dispatcher` (kept-alive connections), told as a load loop counts it: `200`,
 * `200-empty` (a list without items, when `list`), `<status> <body's start>`, or `error <message>`.
 */
export async function outcome(
  dispatcher: Dispatcher,
  url: string,
  o: { readonly timeoutMs?: number; readonly list?: boolean } = {},
): Promise<string> {
  const u = new URL(url);
  const timeoutMs = o.timeoutMs ?? 15_000;
  try {
    const res = await dispatcher.request({
      origin: u.origin,
      path: `${u.pathname}${u.search}`,
      method: "GET",
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return `${String(res.statusCode)} ${text.slice(0, 120)}`;
    if (o.list !== true) return "200";
    const body = JSON.parse(text) as { items?: unknown[] };
    return (body.items?.length ?? 0) > 0 ? "200" : "200-empty";
  } catch (e) {
    return `error ${isTimeout(e) ? "timeout" : nodeError(e, "response").message}`;
  }
}
