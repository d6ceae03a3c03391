/**
 * @module server/secure-serving
 * HTTPS with HTTP/2 and HTTP/1.1 (ALPN), as the aggregator, kubectl and curl speak it. Client
 * certificates are requested but not enforced by TLS: authentication decides what they prove.
 * Serving certificates are re-read when their files change, without dropping connections.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SecureVersion, TLSSocket } from "node:tls";
import { KcmError } from "../errors.ts";

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
  /** How often to look for rotated certificate files. */
  readonly reloadIntervalMs?: number;
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

/** Go cipher suite names (`--tls-cipher-suites`) to OpenSSL names; TLS 1.3 suites are fixed. */
const GO_CIPHERS: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_AES_128_GCM_SHA256: "",
  TLS_AES_256_GCM_SHA384: "",
  TLS_CHACHA20_POLY1305_SHA256: "",
};

export function opensslCiphers(goNames: readonly string[]): string | undefined {
  if (goNames.length === 0) return undefined;
  const out: string[] = [];
  for (const n of goNames) {
    const o = GO_CIPHERS[n];
    if (o === undefined)
      throw new KcmError("KCM_ERR_USAGE", `unknown --tls-cipher-suites entry ${JSON.stringify(n)}`);
    if (o !== "") out.push(o);
  }
  return out.join(":");
}

/**
 * PEM blocks joined one per line. The PKI's PEM has no final newline, and plain concatenation
 * glues `-----END CERTIFICATE----------BEGIN…` onto one line, which OpenSSL refuses.
 */
export function pemBundle(...pems: readonly string[]): string {
  return pems.map((p) => `${p.trim()}\n`).join("");
}

/** A self-signed CA and serving certificate in certDir, as the generic apiserver makes when none is given. */
export async function ensureSelfSigned(
  certDir: string,
  hosts: readonly string[],
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(certDir, "apiserver.crt");
  const keyFile = join(certDir, "apiserver.key");
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  await mkdir(certDir, { recursive: true });
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

type Handler = NonNullable<Parameters<typeof createSecureServer>[1]>;

export async function listenSecure(o: ServingOptions, handler: Handler): Promise<SecureServer> {
  const files =
    o.certFile && o.keyFile
      ? { certFile: o.certFile, keyFile: o.keyFile }
      : await ensureSelfSigned(o.certDir, ["localhost", "127.0.0.1", "::1"]);
  const context = () => ({
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ...(o.clientCaPem() === "" ? {} : { ca: o.clientCaPem() }),
  });
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
    ...(o.minVersion ? { minVersion: o.minVersion } : { minVersion: "TLSv1.2" as const }),
    ...(o.ciphers ? { ciphers: o.ciphers } : {}),
  };
  // node:http2 always offers h2 in ALPN; --disable-http2 needs the plain HTTPS server instead.
  const server = o.http1Only
    ? createHttpsServer(tlsOptions, counted as unknown as Parameters<typeof createHttpsServer>[1])
    : createSecureServer({ ...tlsOptions, allowHTTP1: true }, counted);
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
  const fingerprint = () => {
    try {
      return (
        [files.certFile, files.keyFile]
          .map((f) => `${String(statSync(f).mtimeMs)}:${String(statSync(f).size)}`)
          .join("|") + o.clientCaPem()
      );
    } catch {
      return stamp;
    }
  };
  stamp = fingerprint();
  const reload = () => {
    try {
      server.setSecureContext(context());
    } catch {
      // A half-written pair during rotation: keep serving the old one and try again next tick.
      return;
    }
    stamp = fingerprint();
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
      // HTTP/2 clients get a GOAWAY: no new streams; a session closes once its streams are done.
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
