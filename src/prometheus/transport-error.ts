/**
 * @module prometheus/transport-error
 * Maps what undici and Node throw (error codes, sometimes nested in `cause` or an AggregateError)
 * to a PrometheusError whose message names the likely misconfiguration.
 */
import { PrometheusError } from "./errors.ts";

const TLS_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "EPROTO",
]);

const TIMEOUT_CODES = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

/** The first error code found on `e`, its cause chain, or an AggregateError's members. */
export function errorCode(e: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && code !== "") return code;
  if (e instanceof AggregateError) {
    for (const inner of e.errors) {
      const c = errorCode(inner, depth + 1);
      if (c !== undefined) return c;
    }
  }
  return errorCode((e as { cause?: unknown }).cause, depth + 1);
}

function hint(code: string): string {
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "check the host in --prometheus-url";
  if (TLS_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) {
    return "check --prometheus-ca-file and the names in the server's certificate";
  }
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") {
    return "check --prometheus-url (http vs https) and the Prometheus logs";
  }
  return "check --prometheus-url";
}

export interface TransportContext {
  /** Base URL without credentials, for messages. */
  readonly target: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  /** True when our own deadline fired (the abort signal), whatever undici reported. */
  readonly timedOut: boolean;
}

export function transportError(e: unknown, ctx: TransportContext): PrometheusError {
  const code = errorCode(e);
  if (ctx.timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new PrometheusError(
      `Prometheus at ${ctx.target} did not answer ${ctx.endpoint} within ${String(ctx.timeoutMs)} ms: ` +
        "check its load and the query's cost, or raise the timeout",
      { kind: "timeout", endpoint: ctx.endpoint, cause: e },
    );
  }
  const what = code ?? (e instanceof Error ? e.message : String(e));
  return new PrometheusError(
    `cannot reach Prometheus at ${ctx.target} (${what}): ${hint(code ?? "")}`,
    { kind: "unreachable", endpoint: ctx.endpoint, cause: e },
  );
}
