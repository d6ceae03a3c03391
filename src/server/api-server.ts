/**
 * @module server/api-server
 * The HTTP layer of the adapter: routes `/apis/...` to the API groups, serves discovery, health
 * and version, and turns every error into a Kubernetes Status. Transport (plain HTTP, TLS) and
 * authentication are the caller's business.
 */
import type { IncomingMessage } from "node:http";
import { internalError, methodNotSupported, notFound } from "../apimachinery/status.ts";
import { apiGroup, apiGroupList } from "../apis/discovery.ts";
import { knownDocs, openApiV2, openApiV3Document, openApiV3Index } from "../apis/openapi.ts";
import type { ApiGroup } from "../apis/types.ts";
import type { Logger } from "../observability/logger.ts";
import { StatusError } from "../providers/types.ts";

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
  end(data: string): unknown;
}
export type RequestHandler = (req: Request, res: Response) => void;
export { send as sendResponse };

/** A body sent as is, with its own content type. */
class RawBody {
  readonly contentType: string;
  readonly text: string;
  constructor(contentType: string, text: string) {
    this.contentType = contentType;
    this.text = text;
  }
}

function send(res: Response, status: number, body: unknown): void {
  let text: string;
  let type: string;
  if (body instanceof RawBody) {
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
  res.end(text);
}

export function decodeSegments(path: string): string[] | undefined {
  try {
    return path
      .split("/")
      .filter((s, i, all) => !(s === "" && (i === 0 || i === all.length - 1)))
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

export function createApiHandler(o: ApiServerOptions): RequestHandler {
  const byName = new Map(o.groups.map((g) => [g.name, g]));
  const known = knownDocs();
  const docs = o.groups.flatMap((g) =>
    g.versions.flatMap((v) => known.get(`${g.name}/${v}`) ?? []),
  );
  const handle = async (
    req: Request,
  ): Promise<{ status: number; body: unknown; group: string }> => {
    const url = new URL(req.url ?? "/", "http://adapter");
    const path = url.pathname;
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
            body: new RawBody(o.metrics.contentType, await o.metrics.text()),
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
    const segments = decodeSegments(path);
    if (!segments || segments[0] !== "apis" || segments.length < 2) {
      throw new StatusError(notFound("the server could not find the requested resource", {}));
    }
    const [, groupName = "", version, ...rest] = segments;
    const group = byName.get(groupName);
    if (!group)
      throw new StatusError(notFound("the server could not find the requested resource", {}));
    if (req.method !== "GET") {
      throw new StatusError(
        methodNotSupported({ group: groupName, resource: rest[0] ?? "" }, req.method ?? ""),
      );
    }
    if (version === undefined) return { status: 200, body: apiGroup(group), group: groupName };
    if (!group.versions.includes(version)) {
      throw new StatusError(notFound("the server could not find the requested resource", {}));
    }
    if (rest.length === 0)
      return { status: 200, body: group.resourceList(version), group: groupName };
    const r = await group.handle(version, {
      method: req.method,
      segments: rest,
      query: url.searchParams,
    });
    return { ...r, group: groupName };
  };
  return (req, res) => {
    const t0 = performance.now();
    // Errors are counted under the group the path names, if it is one we serve.
    const named = /^\/apis\/([^/?]+)/.exec(req.url ?? "")?.[1] ?? "";
    const errorGroup = byName.has(named) ? named : "";
    void handle(req)
      .catch((e: unknown) => {
        if (e instanceof StatusError) {
          return { status: e.status.code, body: e.status, group: errorGroup };
        }
        o.log.error(
          { err: e instanceof Error ? e.stack : String(e), url: req.url },
          "request failed",
        );
        const st = internalError(e instanceof Error ? e.message : String(e));
        return { status: 500, body: st, group: errorGroup };
      })
      .then((r) => {
        send(res, r.status, r.body);
        o.onResponse?.(r.group, req.method ?? "", r.status, (performance.now() - t0) / 1000);
        o.log.debug({ method: req.method, url: req.url, code: r.status }, "request");
      });
  };
}
