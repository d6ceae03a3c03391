/**
 * @module server/api-server
 * The HTTP layer of the adapter: routes `/apis/...` to the API groups, serves discovery, health
 * and version, and turns every error into a Kubernetes Status. Transport (plain HTTP, TLS) and
 * authentication are the caller's business.
 */
import type { IncomingMessage } from "node:http";
import {
  parseRequestTarget,
  RequestTargetError,
  type RequestTarget,
} from "../apimachinery/request-target.ts";
import {
  badRequest,
  internalError,
  methodNotAllowed,
  StatusError,
  type Status,
} from "../apimachinery/status.ts";
import { routeNotFound } from "../apis/custom-metrics.ts";
import { apiGroup, apiGroupList } from "../apis/discovery.ts";
import { knownDocs, openApiV2, openApiV3Document, openApiV3Index } from "../apis/openapi.ts";
import { SerializedBody, type ApiGroup } from "../apis/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { Ticket } from "./arrivals.ts";

export interface ApiServerOptions {
  readonly groups: readonly ApiGroup[];
  readonly log: Logger;
  /** Ready once discovery has succeeded once. */
  readonly ready: () => boolean;
  readonly version: { gitVersion: string };
  /** `:<port>` the server listens on, reported in `/apis` as the generic apiserver does. */
  readonly serverAddress?: string;
  /** The adapter's own metrics, served at /metrics. */
  readonly metrics?: { readonly contentType: string; text(): Promise<string> };
  /** Called once per answered request, for metrics. */
  readonly onResponse?: (group: string, verb: string, code: number, seconds: number) => void;
}

/** node:http and node:http2 compatibility requests both fit. */
export type Request = Pick<IncomingMessage, "url" | "method">;
export interface Response {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(data: string, encoding?: BufferEncoding): unknown;
  /** For bodies written in slices ({@link writeBody}); false: wait for "drain". */
  write?(data: string, encoding: BufferEncoding): boolean;
  once?(event: "drain" | "close", listener: () => void): unknown;
}
/**
 * Serves a request whose target was parsed once, by the caller that also authorized it, with the
 * request's arrival ticket if it took one (server/arrivals.ts).
 */
export type RequestHandler = (
  req: Request,
  res: Response,
  target: RequestTarget,
  ticket?: Ticket,
) => void;
export { send as sendResponse };

/**
 * Parses the request target once and hands it on. A target that cannot be served exactly as it
 * reads gets a 404 or 400 Status as kube-apiserver gives (apimachinery/request-target); the
 * reason is logged, the 404 body is kube's generic one.
 */
export function withRequestTarget(
  next: RequestHandler,
  log: Logger,
): (req: Request, res: Response) => void {
  return (req, res) => {
    let target: RequestTarget;
    try {
      target = parseRequestTarget(req.url ?? "/");
    } catch (e) {
      if (!(e instanceof RequestTargetError)) throw e;
      log.debug({ url: req.url, reason: e.message }, "request target refused");
      send(res, e.status, e.status === 404 ? routeNotFound().status : badRequest(e.message));
      return;
    }
    next(req, res, target);
  };
}

function send(res: Response, status: number, body: unknown): void {
  let text: string;
  let type: string;
  if (body instanceof SerializedBody) {
    text = body.text;
    type = body.contentType;
  } else if (typeof body === "string") {
    text = body;
    type = "text/plain; charset=utf-8";
  } else {
    text = JSON.stringify(body);
    type = "application/json";
  }
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-cache, private");
  writeBody(res, text);
}

/** Bodies longer than this go out in slices of about this many characters. */
export const BODY_SLICE = 16 * 1024;

/**
 * Writes `text` (UTF-8) with little memory in flight. Node copies a string into a native buffer
 * sized for its encoding's worst case (3 bytes a character for UTF-8), and HTTP/2 hands all of a
 * body to TLS at once, which keeps an encrypted copy until the client has read it: 64 concurrent
 * 1,000-pod answers (220 KB each) held about 40 MB of copies. An ASCII body, nearly every answer,
 * is the same bytes in latin1 (1 byte a character); a long body goes a slice at a time, the next
 * once the stream has taken the last, so mostly the string itself waits.
 */
export function writeBody(res: Response, text: string): void {
  const bytes = Buffer.byteLength(text, "utf8");
  const encoding: BufferEncoding = bytes === text.length ? "latin1" : "utf8";
  if (text.length <= BODY_SLICE || !res.write || !res.once) {
    res.end(text, encoding);
    return;
  }
  const write = res.write.bind(res);
  const once = res.once.bind(res);
  res.setHeader("Content-Length", String(bytes));
  let closed = false;
  once("close", () => {
    closed = true;
  });
  let at = 0;
  const pump = (): void => {
    while (!closed) {
      let next = at + BODY_SLICE;
      if (next >= text.length) {
        res.end(text.slice(at), encoding);
        return;
      }
      // A slice never ends between the two halves of a surrogate pair (each half alone would be
      // written as U+FFFD).
      const last = text.charCodeAt(next - 1);
      if (last >= 0xd800 && last <= 0xdbff) next--;
      const more = write(text.slice(at, next), encoding);
      at = next;
      if (!more) {
        once("drain", pump);
        return;
      }
    }
  };
  pump();
}

export function createApiHandler(o: ApiServerOptions): RequestHandler {
  const byName = new Map(o.groups.map((g) => [g.name, g]));
  const known = knownDocs();
  const docs = o.groups.flatMap((g) =>
    g.versions.flatMap((v) => known.get(`${g.name}/${v}`) ?? []),
  );
  const handle = async (
    req: Request,
    target: RequestTarget,
    ticket: Ticket | undefined,
  ): Promise<{ status: number; body: unknown; group: string }> => {
    const { path, segments } = target;
    switch (path) {
      case "/healthz":
      case "/livez":
        return { status: 200, body: "ok", group: "" };
      case "/readyz":
        return o.ready()
          ? { status: 200, body: "ok", group: "" }
          : { status: 503, body: "not ready: metric discovery has not succeeded yet", group: "" };
      case "/metrics":
        if (o.metrics)
          return {
            status: 200,
            body: new SerializedBody(await o.metrics.text(), o.metrics.contentType),
            group: "",
          };
        break;
      case "/version":
        return { status: 200, body: { major: "0", minor: "1", ...o.version }, group: "" };
      case "/openapi/v2":
        return { status: 200, body: openApiV2(docs, o.version.gitVersion), group: "" };
      case "/openapi/v3":
        return { status: 200, body: openApiV3Index(docs, o.version.gitVersion), group: "" };
      case "/apis":
      case "/apis/":
        return { status: 200, body: apiGroupList(o.groups, o.serverAddress), group: "" };
    }
    if (path.startsWith("/openapi/v3/apis/")) {
      const doc = known.get(path.slice("/openapi/v3/apis/".length));
      if (doc && docs.includes(doc)) {
        return { status: 200, body: openApiV3Document(doc, o.version.gitVersion), group: "" };
      }
    }
    if (segments[0] !== "apis" || segments.length < 2) {
      throw routeNotFound();
    }
    const [, groupName = "", version, ...rest] = segments;
    const group = byName.get(groupName);
    if (!group) throw routeNotFound();
    if (req.method !== "GET") throw new StatusError(methodNotAllowed());
    if (version === undefined) return { status: 200, body: apiGroup(group), group: groupName };
    if (!group.versions.includes(version)) {
      throw routeNotFound();
    }
    if (rest.length === 0)
      return { status: 200, body: group.resourceList(version), group: groupName };
    const r = await group.handle(version, {
      method: req.method,
      segments: rest,
      query: target.query,
      ticket,
    });
    return { ...r, group: groupName };
  };
  const serve = async (
    req: Request,
    res: Response,
    target: RequestTarget,
    ticket: Ticket | undefined,
  ): Promise<void> => {
    const t0 = performance.now();
    let r: { status: number; body: unknown; group: string };
    try {
      r = await handle(req, target, ticket);
    } catch (e) {
      // Errors are counted under the group the path names, if it is one we serve.
      const named = target.segments[0] === "apis" ? (target.segments[1] ?? "") : "";
      const group = byName.has(named) ? named : "";
      // Providers log their own failures with context (query, rule) before answering a Status.
      r =
        e instanceof StatusError
          ? { status: e.status.code, body: e.status, group }
          : { status: 500, body: unexpectedFailure(o.log, e, req.url), group };
    }
    send(res, r.status, r.body);
    o.onResponse?.(r.group, req.method ?? "", r.status, (performance.now() - t0) / 1000);
    o.log.debug({ method: req.method, url: req.url, code: r.status }, "request");
  };
  return (req, res, target, ticket) => {
    void serve(req, res, target, ticket);
  };
}

/**
 * The 500 Status for an error nothing expected; the cause (a socket error, an internal address)
 * goes to the log, never to the client.
 */
export function unexpectedFailure(log: Logger, e: unknown, url: string | undefined): Status {
  log.error(
    { err: e instanceof Error ? (e.stack ?? e.message) : String(e), url },
    "request failed",
  );
  return internalError("the request failed inside the adapter; see its log");
}
