/**
 * @module server/options/serving
 * Where and how the adapter listens: the generic apiserver's secure-serving flags, graceful
 * shutdown, and the plain-HTTP port for local testing.
 */
import type { SecureVersion } from "node:tls";
import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DEFAULT_HTTP2_MAX_STREAMS, tlsMinVersion } from "../secure-serving.ts";
import { parseSniCertKey, type SniCertKey } from "../sni-certificates.ts";
import { selectCiphers, type CipherSelection } from "../tls-ciphers.ts";
import { KcmError } from "../../errors.ts";
import { DEFAULT_MAX_REQUESTS_INFLIGHT } from "../max-in-flight.ts";
import { duration, http2Streams, list, nonNegativeInt, port } from "./parsers.ts";

export const servingFlags = {
  bindAddress: () =>
    new Option("--bind-address <ip>", "address to serve HTTPS on").default("0.0.0.0"),
  securePort: () => new Option("--secure-port <port>", "HTTPS port").argParser(port).default(6443),
  certDir: () =>
    new Option(
      "--cert-dir <dir>",
      "where a self-signed serving certificate is written when --tls-cert-file is not given",
    ).default("apiserver.local.config/certificates"),
  tlsCertFile: () =>
    new Option(
      "--tls-cert-file <file>",
      "serving certificate (PEM, with intermediates); re-read when it changes",
    ),
  tlsPrivateKeyFile: () => new Option("--tls-private-key-file <file>", "serving key (PEM)"),
  tlsSniCertKey: () =>
    new Option(
      "--tls-sni-cert-key <certfile,keyfile[:names]>",
      "another serving certificate, for the names given (wildcards as *.example.com) or else its own; repeatable, earlier ones win a name; re-read when it changes",
    )
      .default([] as SniCertKey[])
      .argParser((v: string, previous: SniCertKey[]) => {
        try {
          return [...previous, parseSniCertKey(v)];
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      }),
  tlsMinVersion: () => new Option("--tls-min-version <version>", "VersionTLS12 or VersionTLS13"),
  tlsCipherSuites: () =>
    new Option(
      "--tls-cipher-suites <list>",
      "comma-separated Go crypto/tls cipher suite names; ones this OpenSSL lacks (RC4, 3DES) are skipped with a warning",
    )
      .default([] as string[])
      .argParser(list),
  http2MaxStreams: () =>
    new Option(
      "--http2-max-streams-per-connection <n>",
      `the limit that the server gives to clients for the maximum number of streams in an HTTP/2 connection (0: ${String(DEFAULT_HTTP2_MAX_STREAMS)}, as the generic apiserver)`,
    )
      .default(0)
      .argParser(http2Streams),
  // k8s.io/apiserver's flag of the same name and meaning (server_run_options.go).
  maxRequestsInflight: () =>
    new Option(
      "--max-requests-inflight <n>",
      "the maximum number of requests served at once; past it, 429 with Retry-After: 1 (system:masters exempt). 0: no limit",
    )
      .default(DEFAULT_MAX_REQUESTS_INFLIGHT)
      .argParser(nonNegativeInt),
  shutdownGracePeriod: () =>
    new Option(
      "--shutdown-grace-period <duration>",
      "how long in-flight requests may take on SIGTERM",
    )
      .argParser(duration)
      .default(30_000, "30s"),
  // k8s.io/apiserver's flag of the same name and meaning (pkg/server/options/server_run_options.go).
  shutdownDelayDuration: () =>
    new Option(
      "--shutdown-delay-duration <duration>",
      "time to delay the termination on SIGTERM: requests are still served normally and /healthz and /livez succeed, but /readyz fails at once, so endpoints and the aggregator stop sending traffic here; graceful termination (--shutdown-grace-period) starts after it",
    )
      .argParser(duration)
      .default(0, "0s"),
  insecureHttpPort: () =>
    new Option(
      "--insecure-http-port <port>",
      "serve plain HTTP on 127.0.0.1:<port> without authentication instead of HTTPS (local testing only)",
    ).argParser(port),
  disableHttp2: () => new Option("--disable-http2", "serve HTTP/1.1 only").default(false),
};

export interface ServingFlagValues {
  readonly bindAddress: string;
  readonly securePort: number;
  readonly certDir: string;
  readonly tlsCertFile?: string | undefined;
  readonly tlsPrivateKeyFile?: string | undefined;
  readonly tlsSniCertKey: readonly SniCertKey[];
  readonly tlsMinVersion?: string | undefined;
  readonly tlsCipherSuites: readonly string[];
  readonly http2MaxStreamsPerConnection: number;
  readonly maxRequestsInflight: number;
  readonly shutdownGracePeriod: number;
  readonly shutdownDelayDuration: number;
  readonly insecureHttpPort?: number | undefined;
  readonly disableHttp2: boolean;
}

export interface ServingConfig {
  readonly bindAddress: string;
  readonly securePort: number;
  readonly certDir: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly sniCertKeys: readonly SniCertKey[];
  readonly minVersion: SecureVersion | undefined;
  /** What `--tls-cipher-suites` offers, and the names this OpenSSL lacks (warned at startup). */
  readonly ciphers: CipherSelection;
  readonly http1Only: boolean;
  readonly http2MaxStreamsPerConnection: number;
  /** `--max-requests-inflight`; 0: no limit. */
  readonly maxRequestsInflight: number;
  readonly shutdownGraceMs: number;
  /** `--shutdown-delay-duration`: serving on, not ready, before the graceful shutdown starts. */
  readonly shutdownDelayMs: number;
  /** Plain HTTP on 127.0.0.1, no authentication; undefined: HTTPS. */
  readonly insecurePort: number | undefined;
  /** `:<port>` of whichever listener serves, for /version's serverAddress. */
  readonly serverAddress: string;
}

/** A wrong cipher name or TLS version stops the adapter at once, as in Go. */
export function validateServing(v: ServingFlagValues): ServingConfig {
  // As the generic apiserver: one of the pair alone is an error, not a self-signed certificate.
  if (Boolean(v.tlsCertFile) !== Boolean(v.tlsPrivateKeyFile)) {
    throw new KcmError(
      "KCM_ERR_USAGE",
      `--tls-cert-file and --tls-private-key-file go together; only ${v.tlsCertFile ? "--tls-cert-file" : "--tls-private-key-file"} was given (give both, or neither for a certificate in --cert-dir)`,
    );
  }
  const ciphers = selectCiphers(v.tlsCipherSuites);
  const minVersion = tlsMinVersion(v.tlsMinVersion);
  return {
    bindAddress: v.bindAddress,
    securePort: v.securePort,
    certDir: v.certDir,
    certFile: v.tlsCertFile,
    keyFile: v.tlsPrivateKeyFile,
    sniCertKeys: v.tlsSniCertKey,
    minVersion,
    ciphers,
    http1Only: v.disableHttp2,
    http2MaxStreamsPerConnection: v.http2MaxStreamsPerConnection,
    maxRequestsInflight: v.maxRequestsInflight,
    shutdownGraceMs: v.shutdownGracePeriod,
    shutdownDelayMs: v.shutdownDelayDuration,
    insecurePort: v.insecureHttpPort,
    serverAddress: `:${String(v.insecureHttpPort ?? v.securePort)}`,
  };
}
