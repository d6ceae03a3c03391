/**
 * @module server/secure-serving
 * HTTPS with HTTP/2 and HTTP/1.1 (ALPN), as the aggregator, kubectl and curl speak it. Client
 * certificates are requested but not enforced by TLS: authentication decides what they prove.
 * Serving certificates are re-read when their files change, without dropping connections.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import { join, resolve, sep } from "node:path";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  createSecureContext,
  type SecureContext,
  type SecureVersion,
  type TLSSocket,
} from "node:tls";
import { KcmError } from "../errors.ts";
import { serveStream, type H2Request, type H2Response } from "./h2-exchange.ts";
import { certificateNames, lookup, nameTable, type SniCertKey } from "./sni-certificates.ts";
import { selectCiphers } from "./tls-ciphers.ts";

export interface ServingOptions {
  readonly bindAddress: string;
  readonly port: number;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Where a self-signed certificate is written when none is given. */
  readonly certDir: string;
  readonly minVersion?: SecureVersion | undefined;
  /** OpenSSL cipher list (converted from Go names by the caller). */
  readonly ciphers?: string | undefined;
  /** CA bundles whose names are sent in the CertificateRequest, so clients offer their certs. */
  readonly clientCaPem: () => string;
  /** `--disable-http2`: offer only HTTP/1.1 in ALPN. */
  readonly http1Only?: boolean | undefined;
  /** `--http2-max-streams-per-connection`; 0 or absent: {@link DEFAULT_HTTP2_MAX_STREAMS}. */
  readonly http2MaxStreamsPerConnection?: number | undefined;
  /** How often to look for rotated certificate files. */
  readonly reloadIntervalMs?: number;
  /** `--tls-sni-cert-key`: certificates picked by the name the client asks for. */
  readonly sniCertKeys?: readonly SniCertKey[] | undefined;
}

export interface SecureServer {
  readonly server: Http2SecureServer | HttpsServer;
  readonly certFile: string;
  readonly keyFile: string;
  /** Re-reads the certificate files and client CAs now. */
  reload(): void;
  /**
   * Graceful stop: no new connections, in-flight requests finish (up to `graceMs`), then every
   * connection is closed. Aggregators keep HTTP/2 sessions open forever, so waiting for them to
   * close on their own would never end.
   */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * SETTINGS_MAX_CONCURRENT_STREAMS when `--http2-max-streams-per-connection` is 0, as the generic
 * apiserver of prometheus-adapter v0.12.0 advertises (k8s.io/apiserver v0.30
 * pkg/server/secure_serving.go: 100, "to match http2.initialMaxConcurrentStreams used by clients",
 * since the rapid-reset fix of October 2023, in 1.29; it was 250 before). Node.js would advertise 2^32-1, and each
 * open stream holds memory.
 */
export const DEFAULT_HTTP2_MAX_STREAMS = 100;

/** Time from a shutdown's GOAWAY to closing the connection, so the client reads it first. */
const GOAWAY_TIMEOUT_MS = 1_000;

/**
 * The largest request header list accepted, HTTP/2 and HTTP/1.1 alike (RFC 7541 size: name +
 * value + 32 per field). kube-apiserver accepts 1 MiB (MaxHeaderBytes in secure_serving.go) and,
 * over HTTP/2, answers 431 on the one stream. Node.js' nghttp2 cannot: it decodes a header block
 * with fixed limits, a field longer than 64 KiB encoded or a block of more than 9 frames (about
 * 144 KiB) ends the whole connection (GOAWAY), and with it every request the aggregator
 * multiplexed on it. Advertising 64 KiB as SETTINGS_MAX_HEADER_LIST_SIZE keeps compliant clients
 * (Go's transport in the aggregator checks it before sending) below both, so a request over it
 * fails alone on the client side. Over it anyway, Node.js resets only that stream
 * (ENHANCE_YOUR_CALM). docs/flags.md, "Limits".
 */
export const MAX_HEADER_LIST_BYTES = 64 * 1024;

/** Go's tls.VersionName values, as `--tls-min-version` takes them. */
export function tlsMinVersion(flag: string | undefined): SecureVersion | undefined {
  switch (flag) {
    case undefined:
    case "":
      return undefined;
    case "VersionTLS12":
      return "TLSv1.2";
    case "VersionTLS13":
      return "TLSv1.3";
    case "VersionTLS10":
    case "VersionTLS11":
      throw new KcmError(
        "KCM_ERR_USAGE",
        `--tls-min-version=${flag} is not supported by Node.js; use VersionTLS12 or VersionTLS13`,
      );
    default:
      throw new KcmError(
        "KCM_ERR_USAGE",
        `unknown --tls-min-version ${JSON.stringify(flag)}: use VersionTLS12 or VersionTLS13`,
      );
  }
}

/** The OpenSSL cipher string for Go names (server/tls-ciphers.ts `selectCiphers`). */
export function opensslCiphers(goNames: readonly string[]): string | undefined {
  return selectCiphers(goNames).ciphers;
}

/**
 * PEM blocks joined one per line. The PKI's PEM has no final newline, and plain concatenation
 * glues `-----END CERTIFICATE----------BEGIN…` onto one line, which OpenSSL refuses.
 */
export function pemBundle(...pems: readonly string[]): string {
  return pems.map((p) => `${p.trim()}\n`).join("");
}

/**
 * `mkdir -p`, one level at a time: Node.js' recursive mkdir never returns for a path under /proc
 * (the kernel answers ENOENT there, and Node retries the parent forever).
 */
async function makeDirs(dir: string): Promise<void> {
  let at = resolve("/");
  for (const part of resolve(dir)
    .split(sep)
    .filter((p) => p !== "")) {
    at = join(at, part);
    try {
      await mkdir(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** A self-signed CA and serving certificate in certDir, as the generic apiserver makes when none is given. */
export async function ensureSelfSigned(
  certDir: string,
  hosts: readonly string[],
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(certDir, "apiserver.crt");
  const keyFile = join(certDir, "apiserver.key");
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  await makeDirs(certDir);
  // Only here is the X.509 library needed: load it lazily, so serving with given certs skips it.
  const { createCa, issue } = await import("../pki/pki.ts");
  const ca = await createCa(`k8s-custom-metrics-ca@${String(Math.floor(Date.now() / 1000))}`);
  const ips = hosts.filter((h) => /^[\d.]+$|:/.test(h));
  const leaf = await issue(ca, {
    commonName: "k8s-custom-metrics",
    dnsNames: hosts.filter((h) => !ips.includes(h)),
    ipAddresses: ips,
    usage: "server",
  });
  await writeFile(certFile, pemBundle(leaf.certPem, ca.certPem), { mode: 0o644 });
  await writeFile(keyFile, pemBundle(leaf.keyPem), { mode: 0o600 });
  return { certFile, keyFile };
}

/** HTTP/1.1 requests come as node:http's; HTTP/2 ones straight from their streams (h2-exchange). */
export type SecureRequest = IncomingMessage | H2Request;
export type SecureResponse = ServerResponse | H2Response;
type Handler = (req: SecureRequest, res: SecureResponse) => void;

/** Node.js' answers to an HTTP/1.1 request it cannot parse (node:_http_server socketOnError). */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** Sockets whose unparsable request was answered. */
const answered = new WeakSet<Duplex>();

/**
 * Node.js writes its 431 (or 400) and destroys the socket at once: over TLS the answer is often
 * still unsent, and closing with the client's request unread resets the connection, so the client
 * sees "socket hang up" instead of 431. Answer, close our side, and read and drop the rest for a
 * moment first, as Go's server does (net/http closeWriteAndWait, rstAvoidanceDelay 500 ms).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // The parser reports again for every later chunk of the same request: answer once.
  if (answered.has(socket)) return;
  answered.add(socket);
  // As Node.js: nothing is written into a response already on its way (pipelined requests).
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status = CLIENT_ERROR_STATUS[err.code ?? ""] ?? 400;
  socket.end(
    `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ""}\r\nConnection: close\r\n\r\n`,
  );
  socket.resume();
  setTimeout(() => socket.destroy(), 500).unref();
}

export async function listenSecure(o: ServingOptions, handler: Handler): Promise<SecureServer> {
  const files =
    o.certFile && o.keyFile
      ? { certFile: o.certFile, keyFile: o.keyFile }
      : await ensureSelfSigned(o.certDir, ["localhost", "127.0.0.1", "::1"]);
  /** The client CAs every context carries (their names go out in the CertificateRequest). */
  const clientCa = () => {
    const ca = o.clientCaPem();
    return ca === "" ? {} : { ca };
  };
  const context = () => ({
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ...clientCa(),
  });
  const tlsLimits = {
    ...(o.minVersion ? { minVersion: o.minVersion } : { minVersion: "TLSv1.2" as const }),
    ...(o.ciphers ? { ciphers: o.ciphers } : {}),
  };
  const sniPairs = o.sniCertKeys ?? [];
  // Each SNI certificate in a context of its own, with the client CAs: the handshake verifies a
  // client certificate with the context the name picked. A pair that does not load keeps its
  // last good context (as the generic apiserver keeps the last good pair), so one broken pair
  // holds back no other update.
  const sniLoaded: ({ own: string[]; context: SecureContext } | undefined)[] = [];
  let sni = new Map<string, SecureContext>();
  /** Loads every SNI pair it can; throws the first failure after updating the rest. */
  const loadSni = () => {
    let failure: Error | undefined;
    sniPairs.forEach((p, i) => {
      try {
        const cert = readFileSync(p.certFile);
        const key = readFileSync(p.keyFile);
        sniLoaded[i] = {
          own: p.names.length > 0 ? [] : certificateNames(cert),
          context: createSecureContext({ cert, key, ...clientCa(), ...tlsLimits }),
        };
      } catch (e) {
        failure ??= new Error(`--tls-sni-cert-key ${p.certFile},${p.keyFile}: ${String(e)}`);
      }
    });
    sni = nameTable(
      sniPairs.flatMap((p, i) => {
        const loaded = sniLoaded[i];
        return loaded ? [{ given: p.names, own: loaded.own, value: loaded.context }] : [];
      }),
    );
    if (failure !== undefined) throw failure;
  };
  loadSni();
  let inFlight = 0;
  const counted: Handler = (req, res) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
    });
    handler(req, res);
  };
  const sockets = new Set<TLSSocket>();
  const sessions = new Set<ServerHttp2Session>();
  const tlsOptions = {
    ...context(),
    requestCert: true,
    rejectUnauthorized: false,
    ...tlsLimits,
    ...(sniPairs.length === 0
      ? {}
      : {
          SNICallback: (name: string, done: (e: Error | null, c?: SecureContext) => void) => {
            // No entry: the default certificate (--tls-cert-file or the self-signed one).
            done(null, lookup(sni, name));
          },
        }),
  };
  // node:http2 always offers h2 in ALPN; --disable-http2 needs the plain HTTPS server instead.
  const server = o.http1Only
    ? createHttpsServer(
        { ...tlsOptions, maxHeaderSize: MAX_HEADER_LIST_BYTES },
        counted as unknown as Parameters<typeof createHttpsServer>[1],
      )
    : createSecureServer(
        {
          ...tlsOptions,
          allowHTTP1: true,
          settings: {
            maxConcurrentStreams: o.http2MaxStreamsPerConnection || DEFAULT_HTTP2_MAX_STREAMS,
            maxHeaderListSize: MAX_HEADER_LIST_BYTES,
          },
          // Node.js' default of 128 fields would reset a request of a user in many groups (one
          // X-Remote-Group field each); every field counts at least 32 bytes toward the size,
          // so this leaves the size as the only limit, as in Go.
          maxHeaderListPairs: MAX_HEADER_LIST_BYTES / 32,
        },
        counted as unknown as Parameters<typeof createSecureServer>[1],
      );
  if (!o.http1Only) {
    // Adding the "request" listener made node:http2 serve streams through its compatibility
    // layer as well; HTTP/2 streams are served without it (h2-exchange), HTTP/1.1 keeps it.
    server.removeAllListeners("stream");
    server.on("stream", serveStream(counted));
  }
  server.on("clientError", answerClientError);
  // HTTP/1.1 on the h2 server reads these from the server object (node:_http_server), not from
  // the options: one size limit (431 past it), no count limit (Node.js drops fields past 2000).
  Object.assign(server, { maxHeaderSize: MAX_HEADER_LIST_BYTES, maxHeadersCount: 0 });
  server.on("secureConnection", (socket: TLSSocket) => {
    // Go's TLS server never renegotiates; a fixed client certificate per connection also lets
    // authentication parse it once (auth/peer-certificates).
    socket.disableRenegotiation();
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  let stamp = "";
  // A file that is missing mid-rotation counts as a change of its own, not as no change.
  const fingerprint = () =>
    [files.certFile, files.keyFile, ...sniPairs.flatMap((p) => [p.certFile, p.keyFile])]
      .map((f) => {
        try {
          const s = statSync(f);
          return `${String(s.mtimeMs)}:${String(s.size)}`;
        } catch {
          return "missing";
        }
      })
      .join("|") + o.clientCaPem();
  stamp = fingerprint();
  const reload = () => {
    const next = fingerprint();
    let complete = true;
    try {
      server.setSecureContext(context());
    } catch {
      // A half-written pair during rotation: keep serving the old one and try again next tick.
      complete = false;
    }
    try {
      loadSni();
    } catch {
      complete = false;
    }
    if (complete) stamp = next;
  };
  const timer = setInterval(() => {
    if (fingerprint() !== stamp) reload();
  }, o.reloadIntervalMs ?? 2000);
  timer.unref();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "EADDRINUSE"
          ? new KcmError(
              "KCM_ERR_PORT_BUSY",
              `port ${String(o.port)} on ${o.bindAddress} is in use`,
            )
          : e,
      );
    });
    server.listen(o.port, o.bindAddress, resolve);
  });
  return {
    server,
    ...files,
    reload,
    async shutdown(graceMs) {
      clearInterval(timer);
      const closed = new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      // HTTP/2: a GOAWAY naming the last stream taken, as Go's http2 server sends on Shutdown
      // (golang.org/x/net/http2 server.go, startGracefulShutdown): the streams up to it are
      // served; a stream the client sent after it is one the client knows to retry on a new
      // connection (RFC 9113 section 6.8), and it has to, since nghttp2 ignores any stream that
      // arrives after a GOAWAY while the session has none open. Not 2^31-1 (commit 4c3a595):
      // such a stream is then within the IDs the client was told are served, so it waited for
      // the connection to end and failed ("http2: server sent GOAWAY and closed the connection;
      // LastStreamID=2147483647": kube-apiserver's availability check in a rolling update, which
      // marked the APIServices unavailable). The sessions close a second later, again as Go
      // (goAwayTimeout): Node.js 20's close() of an idle session ends the connection before its
      // own GOAWAY is sent, and a request just sent on it failed with "unexpected EOF".
      for (const session of sessions) {
        if (!session.closed && !session.destroyed) session.goaway();
      }
      if (sessions.size > 0) await sleep(Math.min(GOAWAY_TIMEOUT_MS, graceMs));
      // A session closes once its streams are done.
      for (const session of sessions) session.close();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await sleep(50);
      // Ending (not destroying) lets the last response bytes still buffered reach the client.
      for (const s of sockets) s.end();
      await Promise.race([closed, sleep(1_000)]);
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
