/**
 * @module server/handlers
 * Glue between transport and API: the authentication filter in front of the API handler for
 * HTTPS, and the plain-HTTP listener for local testing.
 */
import { createServer, type ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AuthenticationConfig } from "../auth/authentication-config.ts";
import { alwaysAllowPathMatcher } from "../auth/always-allow-paths.ts";
import type { DelegatedAuth } from "../auth/delegated-auth.ts";
import { headersFromRaw } from "../auth/headers.ts";
import type { UserInfo } from "../auth/types.ts";
import { connectionPeerCertificates } from "../auth/peer-certificates.ts";
import { KcmError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { RequestTarget } from "../apimachinery/request-target.ts";
import type { Arrivals, Ticket } from "./arrivals.ts";
import type { SecureRequest, SecureResponse } from "./secure-serving.ts";
import {
  sendResponse,
  unexpectedFailure,
  withRequestTarget,
  type RequestHandler,
} from "./api-server.ts";
import { isDebugTarget, serveDebug, type DebugSources } from "./debug-routes.ts";
import { refuseTooMany, type InFlightLimit } from "./max-in-flight.ts";

/** PEM of every CA a client certificate may chain to, for the TLS CertificateRequest. */
export function clientCaPem(c: AuthenticationConfig): string {
  const certs = [...c.clientCa, ...(c.requestHeader?.caBundle ?? [])];
  return certs.map((x) => x.toString()).join("\n");
}

/**
 * Authenticates and authorizes each request before the API handler sees it, on the same parsed
 * target the handler then serves (never a re-parse of `req.url`). With `arrivals`, a request an
 * API group keys (custom metrics) holds a ticket from here until it reaches the query step or
 * ends, so query grouping can wait for it while it is being authorized (server/arrivals.ts); the
 * ticket goes to the handler with the request.
 * With `debug`, the read-only debug routes (server/debug-routes.ts) are served, authorized like
 * every other request.
 */
export function authenticated(
  auth: DelegatedAuth,
  handler: RequestHandler,
  log: Logger,
  alwaysAllowPaths: readonly string[],
  arrivals?: Arrivals,
  debug?: DebugSources,
  limit?: InFlightLimit,
): (req: SecureRequest, res: SecureResponse) => void {
  const open = alwaysAllowPathMatcher(alwaysAllowPaths);
  /** Never rejects: a failure anywhere in the filters is this request's 500, never the process's end. */
  const serve = async (
    req: SecureRequest,
    res: SecureResponse,
    target: RequestTarget,
    ticket: Ticket | undefined,
  ): Promise<void> => {
    // The in-flight limit sits between authentication and authorization, as in the generic
    // apiserver's chain: a place is held while the request waits for its review, and a request
    // turned away costs no review.
    const admit = limit
      ? (user: UserInfo) => {
          const release = limit.enter(user.groups);
          if (!release) return false;
          res.once("close", release);
          return true;
        }
      : undefined;
    try {
      const r = await auth.authenticateAndAuthorize(
        {
          headers: headersFromRaw(req.rawHeaders),
          peerCertificates: connectionPeerCertificates(
            ("stream" in req ? req.stream.session : undefined) ?? req.socket,
            req.socket as TLSSocket,
          ),
          method: req.method ?? "GET",
          target,
        },
        admit,
      );
      if (r.ok && debug && isDebugTarget(target)) {
        const a = serveDebug(debug, req.method ?? "GET", target);
        sendResponse(res, a.status, a.body);
      } else if (r.ok) {
        handler(req, res, target, ticket);
      } else if (r.status === 429) {
        refuseTooMany(res);
      } else {
        log.debug({ url: req.url, status: r.status, reason: r.reason }, "request refused");
        sendResponse(res, r.status, r.body);
      }
    } catch (e) {
      const status = unexpectedFailure(log, e, req.url);
      if (!res.headersSent) sendResponse(res, 500, status);
    }
  };
  return withRequestTarget((req, res, target) => {
    const r = req as SecureRequest;
    const w = res as SecureResponse;
    // Health paths answer without credentials (the generic apiserver lets anonymous reach them).
    const { path } = target;
    if (target.segments[0] !== "apis" && open({ kind: "nonResource", verb: "get", path })) {
      handler(r, w, target);
      return;
    }
    if (arrivals) {
      arrivals.admit(target, w, (ticket) => {
        void serve(r, w, target, ticket);
      });
    } else void serve(r, w, target, undefined);
  }, log);
}

/** Plain HTTP on 127.0.0.1 only, no authentication: for local testing. Returns a stop function. */
export async function serveInsecure(
  port: number,
  handler: RequestHandler,
  log: Logger,
  limit?: InFlightLimit,
): Promise<() => Promise<void>> {
  const limited: RequestHandler = (req, res, target) => {
    const release = limit && target.segments[0] === "apis" ? limit.enter([]) : () => undefined;
    if (!release) {
      refuseTooMany(res);
      return;
    }
    (res as ServerResponse).once("close", release);
    handler(req, res, target);
  };
  const server = createServer(withRequestTarget(limited, log));
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
