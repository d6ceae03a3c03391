/**
 * @module apimachinery/request-target
 * The one parse of an HTTP request target that both authorization and routing use, so the path
 * that is authorized is the path that is served.
 *
 * kube-apiserver's RequestInfoFactory (k8s.io/apiserver pkg/endpoints/request/requestinfo.go)
 * takes Go's decoded `URL.Path` literally: it never resolves `.` or `..`. A router that does
 * (WHATWG `new URL`, which also turns `\` into `/`) would serve another path than the one
 * authorized, so here nothing is normalized: targets that a normalizing or segment-decoding
 * reader could see differently are refused instead.
 *
 * Refused with 404, as kube-apiserver v1.36 answers such paths (its routes match none of them):
 * - a `.` or `..` segment, literal or percent-encoded (`%2e`, `%2E`);
 * - an encoded `/` (`%2F`): Go decodes it before splitting, a per-segment decoder after;
 * - an empty segment inside the path (`//`), which Go keeps as an empty name (kube-apiserver
 *   even reads `namespaces//pods` as all namespaces).
 *
 * Refused with 400: anything but origin-form (`/…`: absolute-form `http://host/…`, asterisk-form
 * `*`), a `#`, a malformed percent escape in the path, a decoded NUL.
 */

export class RequestTargetError extends Error {
  override readonly name = "RequestTargetError";
  readonly status: 400 | 404;

  constructor(status: 400 | 404, message: string) {
    super(message);
    this.status = status;
  }
}

export interface RequestTarget {
  /** The path as received, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** The decoded path: `/` + segments joined by `/` (Go's `URL.Path`). */
  readonly path: string;
  /** Decoded segments; a leading and a trailing `/` make no segment. */
  readonly segments: readonly string[];
  /** The raw query string, without `?`. */
  readonly rawQuery: string;
  readonly query: URLSearchParams;
}

const ENCODED_SLASH = /%2f/i;

function refuse(why: string, status: 400 | 404 = 400): never {
  throw new RequestTargetError(status, `invalid request path: ${why}`);
}

/** Parses `req.url` (origin-form request target). Throws {@link RequestTargetError}. */
export function parseRequestTarget(url: string): RequestTarget {
  if (!url.startsWith("/")) refuse("only a path starting with / is accepted");
  if (url.includes("#")) refuse("a fragment (#) is not allowed");
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  if (ENCODED_SLASH.test(rawPath)) refuse("an encoded slash (%2F) is not allowed", 404);

  // "/" alone, and one leading and one trailing "/", make no segment.
  const inner = rawPath.slice(1, rawPath.endsWith("/") && rawPath.length > 1 ? -1 : undefined);
  const segments: string[] = [];
  if (inner !== "") {
    for (const raw of inner.split("/")) {
      if (raw === "") refuse("empty path segments (//) are not allowed", 404);
      let s = raw;
      // Without a `%` there is nothing to decode (most segments): no copy.
      if (raw.includes("%")) {
        try {
          s = decodeURIComponent(raw);
        } catch {
          refuse(`invalid URL escape ${JSON.stringify(raw)}`);
        }
      }
      if (s === "." || s === "..") refuse('"." and ".." segments are not allowed', 404);
      if (s.includes("\0")) refuse("a NUL byte is not allowed");
      segments.push(s);
    }
  }
  return {
    rawPath,
    path: `/${segments.join("/")}${segments.length > 0 && rawPath.endsWith("/") ? "/" : ""}`,
    segments,
    rawQuery,
    query: new URLSearchParams(rawQuery),
  };
}
