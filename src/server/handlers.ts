/**
 * @module server/handlers
 * Glue between transport and API: the authentication filter in front of the API handler for
 * HTTPS, and the plain-HTTP listener for local testing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { TLSSocket } from "node:tls";
import type { AuthenticationConfig } from "../auth/authentication-config.ts";
import { alwaysAllowPathMatcher } from "../auth/always-allow-paths.ts";
import type { DelegatedAuth } from "../auth/delegated-auth.ts";
import { headersFromRaw } from "../auth/headers.ts";
import { connectionPeerCertificates } from "../auth/peer-certificates.ts";
import { KcmError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import { sendResponse, type RequestHandler } from "./api-server.ts";

/** PEM of every CA a client certificate may chain to, for the TLS CertificateRequest. */
export function clientCaPem(c: AuthenticationConfig): string {
  const certs = [...c.clientCa, ...(c.requestHeader?.caBundle ?? [])];
  return certs.map((x) => x.toString()).join("\n");
}

type SecureRequest = IncomingMessage | Http2ServerRequest;
type SecureResponse = ServerResponse | Http2ServerResponse;

/** Authenticates and authorizes each request before the API handler sees it. */
export function authenticated(
  auth: DelegatedAuth,
  handler: RequestHandler,
  log: Logger,
  alwaysAllowPaths: readonly string[],
): (req: SecureRequest, res: SecureResponse) => void {
  const open = alwaysAllowPathMatcher(alwaysAllowPaths);
  return (req, res) => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    // Health paths answer without credentials (the generic apiserver lets anonymous reach them).
    const path = q < 0 ? raw : raw.slice(0, q);
    if (!path.startsWith("/apis/") && open({ kind: "nonResource", verb: "get", path })) {
      handler(req, res);
      return;
    }
    void auth
      .authenticateAndAuthorize({
        headers: headersFromRaw(req.rawHeaders),
        peerCertificates: connectionPeerCertificates(
          ("stream" in req ? req.stream.session : undefined) ?? req.socket,
          req.socket as TLSSocket,
        ),
        method: req.method ?? "GET",
        path: q < 0 ? raw : raw.slice(0, q),
        query: q < 0 ? "" : raw.slice(q + 1),
      })
      .then((r) => {
        if (r.ok) {
          handler(req, res);
          return;
        }
        log.debug({ url: raw, status: r.status, reason: r.reason }, "request refused");
        sendResponse(res, r.status, r.body);
      });
  };
}

/** Plain HTTP on 127.0.0.1 only, no authentication: for local testing. Returns a stop function. */
export async function serveInsecure(
  port: number,
  handler: RequestHandler,
  log: Logger,
): Promise<() => Promise<void>> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "EADDRINUSE"
          ? new KcmError("KCM_ERR_PORT_BUSY", `port ${String(port)} on 127.0.0.1 is in use`)
          : e,
      );
    });
    server.listen(port, "127.0.0.1", resolve);
  });
  log.warn(
    { port },
    "serving plain HTTP on 127.0.0.1 without authentication: for local testing only",
  );
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
    });
}
