/**
 * @module apis/types
 * The contract between the HTTP server and each API group: a parsed request in, a status code and
 * a JSON body out. Handlers never touch sockets; errors are thrown as StatusError.
 */

export interface ApiRequest {
  readonly method: string;
  /** Path segments after `/apis/<group>/<version>/`, percent-decoded (`%2A` → `*`). */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
}

/**
 * A body already serialized as JSON: sent as is with `application/json`. Lets an API group share
 * one string between identical answers instead of each holding its own copy.
 */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** A response body as a value: JsonText parsed, anything else as it is (for in-process callers). */
export function bodyValue(body: unknown): unknown {
  return body instanceof JsonText ? (JSON.parse(body.text) as unknown) : body;
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
