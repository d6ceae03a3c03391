/**
 * @module prometheus/mask
 * Which request headers are secrets, and their masked form, for everything that shows a server's
 * headers (`explain`, the debug routes, logs). A tenant header (`X-Scope-OrgID`) is no secret and
 * is shown; a credential never is, not even its length.
 */

/** Header names whose values are credentials (lowercase, exact). */
const SECRET_NAMES = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  "x-vault-token",
]);

/** Parts of a header name that mark it as a credential (`X-Grafana-Token`, `X-Client-Secret`). */
const SECRET_PARTS = /token|secret|password|passwd|apikey|api-key|api_key|auth|session|credential/i;

export function isSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_NAMES.has(n) || SECRET_PARTS.test(n);
}

/** `Bearer abc` → `Bearer ***`; any other secret value → `***`. */
export function maskHeaderValue(name: string, value: string): string {
  if (!isSecretHeader(name)) return value;
  const scheme = /^(Bearer|Basic|Digest|Negotiate|Token)\s/i.exec(value);
  return scheme ? `${scheme[1] ?? ""} ***` : "***";
}

export function maskHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, maskHeaderValue(k, v)] as const),
  );
}
