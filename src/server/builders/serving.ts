/**
 * @module server/builders/serving
 * The listener: HTTPS behind delegated authentication and authorization (the client CAs it asks
 * for follow the auth ConfigMap), or plain HTTP on 127.0.0.1 for local testing.
 */
import type { Registry } from "prom-client";
import { isKcmError, KcmError } from "../../errors.ts";
import type { Logger } from "../../observability/logger.ts";
import type { RequestHandler } from "../api-server.ts";
import type { Arrivals } from "../arrivals.ts";
import type { DebugSources } from "../debug-routes.ts";
import { authenticated, clientCaPem, serveInsecure } from "../handlers.ts";
import { InFlightLimit } from "../max-in-flight.ts";
import { listenSecure } from "../secure-serving.ts";
import type { AuthenticationConfig } from "../options/authentication.ts";
import type { AuthorizationConfig } from "../options/authorization.ts";
import type { ServingConfig } from "../options/serving.ts";
import { buildDelegatedAuth } from "./auth.ts";

export interface Serving {
  /** Stops accepting, lets in-flight requests finish (at most the grace period), stops auth. */
  stop(): Promise<void>;
}

export interface ServingBuildOptions {
  readonly serving: ServingConfig;
  readonly authentication: AuthenticationConfig;
  readonly authorization: AuthorizationConfig;
  readonly handler: RequestHandler;
  readonly arrivals: Arrivals | undefined;
  /** The adapter state `explain` reads (server/debug-routes.ts), authorized as every request. */
  readonly debug?: DebugSources;
  /** The adapter's metrics registry: the TokenReview and SubjectAccessReview counters go on it. */
  readonly registry?: Registry;
  readonly log: Logger;
}

/** A listener that cannot start (certificate files, address, permissions): one line, a code. */
function servingError(where: string): (e: unknown) => never {
  return (e) => {
    if (isKcmError(e)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new KcmError("KCM_ERR_SERVING", `cannot serve on ${where}: ${message}`, { cause: e });
  };
}

/** Listens at once: resolves when the port is bound (KCM_ERR_PORT_BUSY when it is taken). */
export async function startServing(o: ServingBuildOptions): Promise<Serving> {
  const { serving: s, log } = o;
  if (s.insecurePort !== undefined) {
    const where = `127.0.0.1:${String(s.insecurePort)}`;
    const shutdown = await serveInsecure(
      s.insecurePort,
      o.handler,
      log,
      new InFlightLimit(s.maxRequestsInflight),
    ).catch(servingError(where));
    return { stop: shutdown };
  }
  const auth = await buildDelegatedAuth(o.authentication, o.authorization, log, o.registry);
  const secure = await listenSecure(
    {
      bindAddress: s.bindAddress,
      port: s.securePort,
      certFile: s.certFile,
      keyFile: s.keyFile,
      sniCertKeys: s.sniCertKeys,
      certDir: s.certDir,
      minVersion: s.minVersion,
      ciphers: s.ciphers.ciphers,
      clientCaPem: () => clientCaPem(auth.config.current()),
      http1Only: s.http1Only,
      http2MaxStreamsPerConnection: s.http2MaxStreamsPerConnection,
    },
    authenticated(
      auth,
      o.handler,
      log,
      o.authorization.alwaysAllowPaths,
      o.arrivals,
      o.debug,
      new InFlightLimit(s.maxRequestsInflight),
    ),
  ).catch(servingError(`${s.bindAddress}:${String(s.securePort)}`));
  auth.config.onChange(() => {
    secure.reload();
  });
  log.info({ address: s.bindAddress, port: s.securePort, cert: secure.certFile }, "serving HTTPS");
  return {
    async stop() {
      await secure.shutdown(s.shutdownGraceMs);
      auth.close();
    },
  };
}
