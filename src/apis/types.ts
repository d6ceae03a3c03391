/**
 * @module apis/types
 * The contract between the HTTP server and each API group: a parsed request in, a status code and
 * a JSON body out. Handlers never touch sockets; errors are thrown as StatusError.
 */
import type { Ticket } from "../providers/arrival-ticket.ts";

export interface ApiRequest {
  readonly method: string;
  /** Path segments after `/apis/<group>/<version>/`, percent-decoded (`%2A` → `*`). */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** The request's arrival ticket (server/arrivals.ts), for the provider's query grouping. */
  readonly ticket?: Ticket | undefined;
}

/**
 * A body already serialized, sent as is with its content type (JSON unless said otherwise). Lets
 * an API group share one string between identical answers instead of each holding its own copy,
 * and the server send text it did not build (its own /metrics).
 */
export class SerializedBody {
  readonly text: string;
  readonly contentType: string;
  constructor(text: string, contentType = "application/json") {
    this.text = text;
    this.contentType = contentType;
  }
}

/** A response body as a value: serialized JSON parsed, anything else as it is (for in-process callers). */
export function bodyValue(body: unknown): unknown {
  return body instanceof SerializedBody && body.contentType === "application/json"
    ? (JSON.parse(body.text) as unknown)
    : body;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiGroup {
  readonly name: string;
  /** Served versions, preferred first. */
  readonly versions: readonly string[];
  /** Versions listed in the group's APIGroup document (upstream lists fewer than it serves). */
  readonly advertisedVersions: readonly string[];
  /** The APIResourceList of one version. */
  resourceList(version: string): unknown;
  handle(version: string, req: ApiRequest): Promise<ApiResponse>;
}
