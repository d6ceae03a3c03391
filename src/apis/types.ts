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
