/**
 * @module auth/headers
 * Case-insensitive header lookup with Go's `http.Header` semantics: `Get` reads the first value of
 * a header, `h[key]` all of them, in the order they arrived.
 */
import type { AuthHeaders } from "./types.ts";

/**
 * Builds a distinct-values header record from Node's `rawHeaders` ([name, value, name, value…]),
 * which keeps repeated headers apart for both node:http and node:http2 compat requests.
 */
export function headersFromRaw(rawHeaders: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? "").toLowerCase();
    const value = rawHeaders[i + 1] ?? "";
    // Own keys only: a client's header named `constructor` or `__proto__` is a header like any
    // other (a prototype-less record would do, but V8 keeps those as slower dictionaries).
    const list = Object.hasOwn(out, name) ? out[name] : undefined;
    if (list) list.push(value);
    else if (name === "__proto__") {
      Object.defineProperty(out, name, { value: [value], enumerable: true, writable: true });
    } else out[name] = [value];
  }
  lowerCased.add(out);
  return out;
}

/** Records whose names are all lower case (headersFromRaw's): a name is looked up directly. */
const lowerCased = new WeakSet<AuthHeaders>();

/** A header's own entry, never an inherited member such as `constructor`. */
function ownValue(headers: AuthHeaders, name: string): string | string[] | undefined {
  return Object.hasOwn(headers, name) ? headers[name] : undefined;
}

// The lookups below run for every authenticated request: they walk the names (for…in) rather
// than building entry pairs or name lists, and build nothing for a header that is absent.

/** All values of one header, whatever the case of its name in the record. */
export function headerValues(headers: AuthHeaders, name: string): string[] {
  const wanted = name.toLowerCase();
  if (lowerCased.has(headers)) {
    const v = ownValue(headers, wanted);
    return v === undefined ? [] : typeof v === "string" ? [v] : [...v];
  }
  const out: string[] = [];
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || key.toLowerCase() !== wanted) continue;
    if (typeof value === "string") out.push(value);
    else out.push(...value);
  }
  return out;
}

/** http.Header.Get: the first value, or "". */
export function firstHeaderValue(headers: AuthHeaders, name: string): string {
  const wanted = name.toLowerCase();
  if (lowerCased.has(headers)) {
    const v = ownValue(headers, wanted);
    return (typeof v === "string" ? v : v?.[0]) ?? "";
  }
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || key.toLowerCase() !== wanted) continue;
    // An empty list is no value: the next spelling of the name may have one.
    const first = typeof value === "string" ? value : value[0];
    if (first !== undefined) return first;
  }
  return "";
}

/** Whether any header name starts with one of `prefixes` (lower-cased), whatever its case. */
export function hasHeaderWithPrefix(headers: AuthHeaders, prefixes: readonly string[]): boolean {
  const lowered = lowerCased.has(headers);
  for (const key in headers) {
    if (headers[key] === undefined) continue;
    const lower = lowered ? key : key.toLowerCase();
    for (const p of prefixes) if (lower.startsWith(p)) return true;
  }
  return false;
}

/** Header names (lower-cased) with all their values, for prefix scans. */
export function headerEntries(headers: AuthHeaders): [string, string[]][] {
  const byName = new Map<string, string[]>();
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = key.toLowerCase();
    const list = byName.get(lower) ?? [];
    if (typeof value === "string") list.push(value);
    else list.push(...value);
    byName.set(lower, list);
  }
  return [...byName.entries()];
}
