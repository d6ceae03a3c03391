/**
 * @module prometheus/options
 * Options of the Prometheus client, their defaults, and their validation. Mirrors the
 * prometheus-adapter `--prometheus-*` flags; file-valued options are read here, once, so a wrong
 * path fails at startup rather than on the first HPA request.
 */
import { readFile } from "node:fs/promises";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { KcmError } from "../errors.ts";
import { DEFAULT_SERVER } from "../observability/server-label.ts";
import type { PrometheusErrorKind } from "./errors.ts";
import type { HttpVerb } from "./request-url.ts";

/** `success`, or the kind of error a request ended with. */
export type RequestOutcome = "success" | PrometheusErrorKind;

export interface PrometheusClientOptions {
  /** Base URL; endpoints are joined onto its path (`http://h/prefix` → `/prefix/api/v1/query`). */
  readonly url: string;
  /** `--prometheus-verb`. Default GET; long GETs are sent as POST regardless. */
  readonly verb?: HttpVerb;
  /** `--prometheus-header`: added to every request, e.g. `X-Scope-OrgID`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** `--prometheus-token-file`: sent as `Authorization: Bearer <token>`. */
  readonly bearerTokenFile?: string;
  /** How often (ms) the token file is checked for a rotated token. Default 60 s, like client-go. */
  readonly bearerTokenRefreshMs?: number;
  /** `--prometheus-ca-file`. */
  readonly caFile?: string;
  /** `--prometheus-client-tls-cert-file`; needs `clientKeyFile`. */
  readonly clientCertFile?: string;
  /** `--prometheus-client-tls-key-file`; needs `clientCertFile`. */
  readonly clientKeyFile?: string;
  readonly insecureSkipVerify?: boolean;
  /** Per-request limit for the whole exchange. Default 10 s. */
  readonly timeoutMs?: number;
  /** Upper bound on open connections. Default 16. */
  readonly maxConnections?: number;
  /**
   * Identical `query` calls whose times fall in the same window of this many ms share one
   * in-flight request. Default 1000; 0 turns coalescing off.
   */
  readonly coalesceWindowMs?: number;
  /**
   * The server's short name in the adapter's own metrics (`server` label): `default` for
   * `--prometheus-url`, a rule's server's host (and path) otherwise. Comes from the config only, so
   * its values are bounded.
   */
  readonly serverLabel?: string;
  /**
   * Called once per HTTP request, for latency metrics. `endpoint` is a path template; `server` is
   * {@link serverLabel}.
   */
  readonly onRequest?: (
    endpoint: string,
    durationMs: number,
    outcome: RequestOutcome,
    server: string,
  ) => void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 16;
export const DEFAULT_COALESCE_WINDOW_MS = 1_000;
export const DEFAULT_TOKEN_REFRESH_MS = 60_000;

/** What a connection to Prometheus takes for TLS: one context, built once (CA parsing is slow). */
export interface TlsMaterial {
  readonly secureContext?: SecureContext;
}

/**
 * Go's system roots on Linux (crypto/x509 root_linux.go): `$SSL_CERT_FILE`, else the first of
 * these that exists. prometheus-adapter trusts them; deployments mount a private CA over one.
 */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

async function systemBundle(env: NodeJS.ProcessEnv): Promise<Buffer | undefined> {
  const file = env["SSL_CERT_FILE"];
  for (const f of file ? [file] : SYSTEM_BUNDLES) {
    try {
      return await readFile(f);
    } catch {
      // Not there: the next candidate.
    }
  }
  return undefined;
}

/** Options after validation, with defaults applied and files (except the token) read. */
export interface ResolvedOptions {
  readonly url: URL;
  readonly verb: HttpVerb;
  readonly headers: Readonly<Record<string, string>>;
  readonly bearerTokenFile: string | undefined;
  readonly bearerTokenRefreshMs: number;
  readonly tls: TlsMaterial;
  readonly insecureSkipVerify: boolean;
  readonly timeoutMs: number;
  readonly maxConnections: number;
  readonly coalesceWindowMs: number;
  readonly onRequest: PrometheusClientOptions["onRequest"];
  readonly serverLabel: string;
}

function usage(message: string, cause?: unknown): KcmError {
  return new KcmError("KCM_ERR_USAGE", message, cause === undefined ? undefined : { cause });
}

async function readOption(flag: string, file: string | undefined): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw usage(`cannot read ${flag} ${file} (${code})`, e);
  }
}

/**
 * Without --prometheus-ca-file, Node.js' bundled roots and the system's bundle, as Go trusts the
 * system's: a private CA mounted over the bundle (as prometheus-adapter's Helm chart shows) works.
 */
async function tlsMaterial(
  url: URL,
  ca: Buffer | undefined,
  cert: Buffer | undefined,
  key: Buffer | undefined,
): Promise<TlsMaterial> {
  if (url.protocol !== "https:") return {};
  const system = ca === undefined ? await systemBundle(process.env) : undefined;
  const roots = ca ?? (system === undefined ? undefined : [...rootCertificates, system]);
  return {
    secureContext: createSecureContext({
      minVersion: "TLSv1.2",
      ...(roots === undefined ? {} : { ca: roots }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    }),
  };
}

function positive(name: string, v: number | undefined, dflt: number, allowZero = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw usage(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${v}`);
  }
  return v;
}

export async function resolveOptions(o: PrometheusClientOptions): Promise<ResolvedOptions> {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch (e) {
    throw usage(`--prometheus-url ${JSON.stringify(o.url)} is not a URL`, e);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usage(`--prometheus-url must use http or https, got ${url.protocol}`);
  }
  const verb = o.verb ?? "GET";
  // The type says GET | POST, but the value comes from a command line or a config file.
  if (!(["GET", "POST"] as unknown[]).includes(verb)) {
    throw usage(`--prometheus-verb must be GET or POST, got ${verb}`);
  }
  if ((o.clientCertFile === undefined) !== (o.clientKeyFile === undefined)) {
    throw usage(
      "--prometheus-client-tls-cert-file and --prometheus-client-tls-key-file go together: give both or neither",
    );
  }
  const headers = { ...o.headers };
  if (
    o.bearerTokenFile !== undefined &&
    Object.keys(headers).some((h) => h.toLowerCase() === "authorization")
  ) {
    throw usage("--prometheus-token-file and an Authorization --prometheus-header conflict");
  }
  const [ca, cert, key] = await Promise.all([
    readOption("--prometheus-ca-file", o.caFile),
    readOption("--prometheus-client-tls-cert-file", o.clientCertFile),
    readOption("--prometheus-client-tls-key-file", o.clientKeyFile),
  ]);
  return {
    url,
    verb,
    headers,
    bearerTokenFile: o.bearerTokenFile,
    bearerTokenRefreshMs: positive(
      "bearerTokenRefreshMs",
      o.bearerTokenRefreshMs,
      DEFAULT_TOKEN_REFRESH_MS,
      true,
    ),
    tls: await tlsMaterial(url, ca, cert, key),
    insecureSkipVerify: o.insecureSkipVerify ?? false,
    timeoutMs: positive("timeoutMs", o.timeoutMs, DEFAULT_TIMEOUT_MS),
    maxConnections: positive("maxConnections", o.maxConnections, DEFAULT_MAX_CONNECTIONS),
    coalesceWindowMs: positive(
      "coalesceWindowMs",
      o.coalesceWindowMs,
      DEFAULT_COALESCE_WINDOW_MS,
      true,
    ),
    onRequest: o.onRequest,
    serverLabel:
      o.serverLabel === undefined || o.serverLabel === "" ? DEFAULT_SERVER : o.serverLabel,
  };
}
