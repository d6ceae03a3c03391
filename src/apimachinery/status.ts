/**
 * @module apimachinery/status
 * metav1.Status bodies, built like apimachinery `pkg/api/errors/errors.go` does. Every error the
 * server returns is one of these; keys are emitted in Go's struct order with omitempty honoured, so
 * the JSON matches what kube-apiserver and prometheus-adapter send.
 */

import { goQuote } from "./go-quote.ts";
import { groupResourceString, type GroupResource } from "./group-resource.ts";

export type StatusReason =
  | "NotFound"
  | "BadRequest"
  | "InternalError"
  | "Forbidden"
  | "Unauthorized"
  | "ServiceUnavailable"
  | "MethodNotAllowed"
  | "TooManyRequests";

export interface StatusCause {
  /** Go field `Type`, JSON key `reason`. */
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** Drop empty fields (omitempty) and fix key order. `{}` stays `{}`: the route 404 sends it. */
function cleanDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes && d.causes.length > 0) {
    out.causes = d.causes.map((c) => {
      const cause: StatusCause = {};
      if (c.reason) cause.reason = c.reason;
      if (c.message) cause.message = c.message;
      if (c.field) cause.field = c.field;
      return cause;
    });
  }
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

/** A Failure Status with keys in Kubernetes order. */
export function failureStatus(
  code: number,
  reason: StatusReason,
  message: string,
  details?: StatusDetails,
): Status {
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
  if (details === undefined) return status;
  // Rebuild so `details` sits between `reason` and `code`, as Go emits it.
  return {
    kind: status.kind,
    apiVersion: status.apiVersion,
    metadata: status.metadata,
    status: status.status,
    message,
    reason,
    details: cleanDetails(details),
    code,
  };
}

/**
 * 404 with a message of the caller's choosing, e.g. custom-metrics-apiserver's
 * "the server could not find the metric m for pods" (no details) or the route 404 (`details: {}`).
 */
export function notFound(message: string, details?: StatusDetails): Status {
  return failureStatus(404, "NotFound", message, details);
}

/** errors.NewNotFound: `podmetrics.metrics.k8s.io "ns/p" not found`. */
export function resourceNotFound(gr: GroupResource, name: string): Status {
  return notFound(`${groupResourceString(gr)} ${goQuote(name)} not found`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

/** errors.NewBadRequest. */
export function badRequest(message: string): Status {
  return failureStatus(400, "BadRequest", message);
}

/**
 * errors.NewInternalError(err): the message is prefixed and the cause kept in details.
 *
 * @example internalError("unable to fetch metrics").message === "Internal error occurred: unable to fetch metrics"
 */
export function internalError(cause: string): Status {
  return failureStatus(500, "InternalError", `Internal error occurred: ${cause}`, {
    causes: [{ message: cause }],
  });
}

/** errors.NewForbidden(resource, name, err). */
export function forbidden(gr: GroupResource, name: string, cause: string): Status {
  let message: string;
  if (gr.group === "" && gr.resource === "") message = `forbidden: ${cause}`;
  else if (name === "") message = `${groupResourceString(gr)} is forbidden: ${cause}`;
  else message = `${groupResourceString(gr)} ${goQuote(name)} is forbidden: ${cause}`;
  return failureStatus(403, "Forbidden", message, { group: gr.group, kind: gr.resource, name });
}

/** errors.NewUnauthorized: an empty reason reads "not authorized". */
export function unauthorized(reason = ""): Status {
  return failureStatus(401, "Unauthorized", reason === "" ? "not authorized" : reason);
}

/** errors.NewTooManyRequests(message, 1): come back in a second. */
export function tooManyRequests(message: string): Status {
  return failureStatus(429, "TooManyRequests", message, { retryAfterSeconds: 1 });
}

/** errors.NewServiceUnavailable. */
export function serviceUnavailable(reason: string): Status {
  return failureStatus(503, "ServiceUnavailable", reason);
}

/**
 * A method a route does not serve. The generic apiserver's go-restful container answers it with
 * errors.NewGenericServerResponse(405, …, "405: Method Not Allowed") (apiserver
 * pkg/server/handler.go serviceErrorHandler): no resource is named.
 */
export function methodNotAllowed(): Status {
  return failureStatus(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
    { causes: [{ reason: "UnexpectedServerResponse", message: "405: Method Not Allowed" }] },
  );
}

/**
 * An error that already knows the Kubernetes Status the client should see (apimachinery
 * pkg/api/errors StatusError): providers and handlers throw it, the server answers with its Status.
 */
export class StatusError extends Error {
  override readonly name = "StatusError";
  readonly status: Status;

  constructor(status: Status, options?: { cause?: unknown }) {
    super(status.message, options);
    this.status = status;
  }
}
