/**
 * @module prometheus/request-url
 * Turns (base URL, endpoint, parameters, verb) into the HTTP request line and body, the way
 * prometheus-adapter's `httpAPIClient.Do` does, with two deliberate differences:
 *
 * - Query parameters of the base URL (`http://h/prom?tenant=a`) are kept on GET as well as POST.
 *   Upstream overwrites `RawQuery` on GET, silently dropping them; gateways that route on a query
 *   parameter then fail in a way nobody can see.
 * - A GET whose URL would exceed {@link MAX_GET_URL_LENGTH} is sent as a POST form instead. Pod
 *   regexes for large `*` requests grow past the 8–16 KiB URL limits of proxies and
 *   VictoriaMetrics (prometheus-adapter #668), and upstream's only cure is `--prometheus-verb=POST`.
 */
import { posix } from "node:path";

/** GET URLs longer than this (in bytes; the encoded URL is ASCII) are sent as POST. */
export const MAX_GET_URL_LENGTH = 8 * 1024;

export type HttpVerb = "GET" | "POST";

export type Params = readonly (readonly [key: string, value: string])[];

export interface PreparedRequest {
  readonly method: HttpVerb;
  /** Path plus query string, as undici's `request({ path })` wants it. */
  readonly path: string;
  /** The form body, for POST. */
  readonly body: string | undefined;
  /** True when a GET was turned into a POST because the URL was too long. */
  readonly autoPost: boolean;
}

/**
 * Unix seconds with millisecond precision in the shortest form, `1565786045.323`, like Go's
 * `model.Time.String()`. Dividing the integer milliseconds by 1000 is correctly rounded, so JS's
 * shortest round-trip formatting prints exactly the decimal digits.
 */
export function formatTime(t: Date): string {
  const ms = t.getTime();
  if (!Number.isFinite(ms)) throw new TypeError("invalid Date");
  return (ms / 1000).toString();
}

/** Go's `path.Join(base, endpoint)`: one slash between, `.`/`..`/`//` cleaned. */
export function joinPath(basePath: string, endpoint: string): string {
  const joined = posix.join("/", basePath, endpoint);
  return joined.length > 1 && joined.endsWith("/") ? joined.slice(0, -1) : joined;
}

/**
 * Form-encodes parameters with keys sorted and values per key in order, as Go's
 * `url.Values.Encode()` does, so requests are stable (and comparable in logs and tests).
 */
export function encodeParams(params: Params): string {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of params) {
    const list = byKey.get(k);
    if (list) list.push(v);
    else byKey.set(k, [v]);
  }
  const out = new URLSearchParams();
  for (const k of [...byKey.keys()].sort()) {
    for (const v of byKey.get(k) ?? []) out.append(k, v);
  }
  return out.toString();
}

export function prepareRequest(
  base: URL,
  endpoint: string,
  params: Params,
  verb: HttpVerb,
): PreparedRequest {
  const path = joinPath(base.pathname, endpoint);
  const baseQuery = base.search.startsWith("?") ? base.search.slice(1) : base.search;
  const ours = encodeParams(params);
  if (verb === "GET") {
    const query = [baseQuery, ours].filter((s) => s !== "").join("&");
    const pathAndQuery = query === "" ? path : `${path}?${query}`;
    if (base.origin.length + pathAndQuery.length <= MAX_GET_URL_LENGTH) {
      return { method: "GET", path: pathAndQuery, body: undefined, autoPost: false };
    }
  }
  return {
    method: "POST",
    path: baseQuery === "" ? path : `${path}?${baseQuery}`,
    body: ours,
    autoPost: verb === "GET",
  };
}
