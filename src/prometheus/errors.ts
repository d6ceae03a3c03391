/**
 * @module prometheus/errors
 * The one error class for every failed Prometheus request. `kind` says which part failed, so a
 * caller (or a log reader) knows where to look: the network, the clock, the server's reply, or the
 * query itself. Messages end with what to check next.
 */

/**
 * - `unreachable`: no connection (refused, DNS, TLS handshake, reset).
 * - `timeout`: connected (or tried to) but no complete answer within the timeout.
 * - `bad_response`: an answer that is not a Prometheus API envelope (HTML, 502, 404, bad JSON).
 * - `api_error`: a proper `{"status":"error"}` envelope, such as a PromQL parse error.
 */
export type PrometheusErrorKind = "timeout" | "unreachable" | "bad_response" | "api_error";

export interface PrometheusErrorDetails {
  readonly kind: PrometheusErrorKind;
  /** The API path template, e.g. `/api/v1/query`. */
  readonly endpoint: string;
  /** HTTP status, when a response arrived. */
  readonly httpStatus?: number;
  /** Prometheus `errorType` (`bad_data`, `execution`, `timeout`…), for `api_error` only. */
  readonly errorType?: string;
  /** Prometheus `error` text, for `api_error` only. */
  readonly error?: string;
  readonly cause?: unknown;
}

export class PrometheusError extends Error {
  override readonly name = "PrometheusError";
  readonly kind: PrometheusErrorKind;
  readonly endpoint: string;
  readonly httpStatus: number | undefined;
  readonly errorType: string | undefined;
  readonly error: string | undefined;

  constructor(message: string, details: PrometheusErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = details.kind;
    this.endpoint = details.endpoint;
    this.httpStatus = details.httpStatus;
    this.errorType = details.errorType;
    this.error = details.error;
  }
}

export function isPrometheusError(e: unknown): e is PrometheusError {
  return e instanceof PrometheusError;
}

/** What to check for a non-envelope answer with this HTTP status. */
export function hintForStatus(status: number): string {
  if (status === 401 || status === 403) {
    return "check --prometheus-token-file and --prometheus-header (credentials, X-Scope-OrgID)";
  }
  if (status === 404) {
    return "check --prometheus-url: it must be the API root, the part before /api/v1";
  }
  if (status === 414 || status === 431) {
    return "the server limits URL size: use --prometheus-verb=POST";
  }
  if (status >= 500) {
    return "Prometheus or a proxy in front of it failed: check their logs";
  }
  return "check --prometheus-url points at a Prometheus-compatible HTTP API";
}
