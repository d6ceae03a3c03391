/**
 * @module prometheus/envelope
 * Reads the Prometheus API's response envelope (`{"status": "success"|"error", ...}`) from one
 * HTTP exchange: the `success` envelope, or a {@link PrometheusError} saying what answered and
 * what to check. Apart from the client so the transport and the answer's reading stay separate.
 */
import { hintForStatus, PrometheusError } from "./errors.ts";

/** Upper bound on how much of an unexpected body goes into an error message. */
const SNIPPET_LENGTH = 200;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_LENGTH ? `${flat.slice(0, SNIPPET_LENGTH)}…` : flat;
}

function apiErrorHint(errorType: string): string {
  switch (errorType) {
    case "bad_data":
    case "execution":
      return "check the query (seriesQuery/metricsQuery in the config)";
    case "timeout":
    case "canceled":
      return "the query is too costly or Prometheus is overloaded";
    case "unavailable":
      return "Prometheus is not ready yet (starting up, or replaying its WAL)";
    default:
      return "check the Prometheus logs";
  }
}

/**
 * The `status: "success"` envelope of a response from `target`, or a PrometheusError: an error
 * envelope at any status, a non-2xx status, or a body that is no API response at all.
 */
export function readEnvelope(
  target: string,
  endpoint: string,
  status: number,
  contentType: string,
  text: string,
): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Any status may carry a proper error envelope (Prometheus uses 400/422/503, Mimir and Thanos
  // others); its errorType and text say far more than the status code.
  if (isRecord(json) && json["status"] === "error") {
    const errorType = typeof json["errorType"] === "string" ? json["errorType"] : "unknown";
    const error = typeof json["error"] === "string" ? json["error"] : "";
    throw new PrometheusError(
      `Prometheus at ${target} rejected ${endpoint} (HTTP ${String(status)}): ` +
        `${errorType}: ${error}: ${apiErrorHint(errorType)}`,
      { kind: "api_error", endpoint, httpStatus: status, errorType, error },
    );
  }
  if (status < 200 || status > 299) {
    const body = snippet(text);
    throw new PrometheusError(
      `unexpected HTTP ${String(status)} from Prometheus at ${target} for ${endpoint}` +
        `${body === "" ? "" : ` (${body})`}: ${hintForStatus(status)}`,
      { kind: "bad_response", endpoint, httpStatus: status },
    );
  }
  if (!isRecord(json) || json["status"] !== "success" || !("data" in json)) {
    throw new PrometheusError(
      `Prometheus at ${target} answered ${endpoint} with something other than an API ` +
        `response (${contentType}: ${snippet(text)}): check --prometheus-url points at the API ` +
        "root, not a UI or a login page",
      { kind: "bad_response", endpoint, httpStatus: status },
    );
  }
  return json;
}
