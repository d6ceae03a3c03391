/**
 * @module auth/request-header-authenticator
 * The front-proxy authenticator: identity headers (X-Remote-User…) count only when the TLS client
 * certificate chains to the requestheader CA and its CN is allowed. Mirrors k8s.io/apiserver
 * pkg/authentication/request/x509/x509.go (Verifier) and
 * pkg/authentication/request/headerrequest/requestheader.go.
 */
import type { RequestHeaderConfig } from "./authentication-config.ts";
import { subjectValues, verifyClientChain } from "./cert-chain.ts";
import { firstHeaderValue, hasHeaderWithPrefix, headerEntries, headerValues } from "./headers.ts";
import type { AuthHeaders, AuthRequest, AuthenticatorAttempt, UserInfo } from "./types.ts";

/** headerValue: the first non-empty value among the headers, in order. */
function firstNonEmpty(headers: AuthHeaders, names: readonly string[]): string {
  for (const name of names) {
    const v = firstHeaderValue(headers, name);
    if (v !== "") return v;
  }
  return "";
}

/** allHeaderValues: every non-empty value of every listed header. */
function allNonEmpty(headers: AuthHeaders, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) for (const v of headerValues(headers, n)) if (v !== "") out.push(v);
  return out;
}

/** url.PathUnescape, keeping the key as it was when it is malformed. */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** newExtra: `<prefix><key>` headers, key lower-cased then %-unescaped; prefixes in order. */
function extraFromHeaders(
  headers: AuthHeaders,
  prefixes: readonly string[],
): Record<string, string[]> {
  const lower = prefixes.map((p) => p.toLowerCase());
  // Most requests carry no extra: nothing more to build then.
  if (!hasHeaderWithPrefix(headers, lower)) return {};
  // Keys are the client's (an impersonated extra may be named `constructor` or `__proto__`): they
  // are gathered in a Map and become own properties (fromEntries defines, never assigns).
  const extra = new Map<string, string[]>();
  const entries = headerEntries(headers);
  for (const p of lower) {
    for (const [name, values] of entries) {
      if (!name.startsWith(p)) continue;
      const key = unescapeExtraKey(name.slice(p.length));
      const list = extra.get(key);
      if (list) list.push(...values);
      else extra.set(key, [...values]);
    }
  }
  return Object.fromEntries(extra);
}

/** The user the identity headers describe, or undefined without a username. */
export function userFromHeaders(
  headers: AuthHeaders,
  cfg: Omit<RequestHeaderConfig, "caBundle" | "allowedNames">,
): UserInfo | undefined {
  const name = firstNonEmpty(headers, cfg.usernameHeaders);
  if (name === "") return undefined;
  const user: UserInfo = {
    name,
    groups: allNonEmpty(headers, cfg.groupHeaders),
    extra: extraFromHeaders(headers, cfg.extraHeaderPrefixes),
  };
  const uid = firstNonEmpty(headers, cfg.uidHeaders);
  if (uid !== "") user.uid = uid;
  return user;
}

export function authenticateRequestHeader(
  req: AuthRequest,
  cfg: RequestHeaderConfig | undefined,
  now: number = Date.now(),
): AuthenticatorAttempt {
  // Without a CA ("no verify options") or a client cert this authenticator has no opinion.
  const leaf = req.peerCertificates[0];
  if (cfg === undefined || cfg.caBundle.length === 0 || leaf === undefined) {
    return { kind: "skip" };
  }
  const verified = verifyClientChain(req.peerCertificates, cfg.caBundle, now);
  if (!verified.ok) return { kind: "error", reason: `requestheader: ${verified.reason}` };
  const cn = subjectValues(leaf, "CN")[0] ?? "";
  if (cfg.allowedNames.length > 0 && !cfg.allowedNames.includes(cn)) {
    return {
      kind: "error",
      reason: `requestheader: x509: subject with cn=${cn} is not in the allowed list`,
    };
  }
  const user = userFromHeaders(req.headers, cfg);
  // A valid front-proxy certificate without a username: no opinion, the next authenticator runs.
  return user
    ? { kind: "user", user }
    : { kind: "skip", note: "requestheader: valid front-proxy certificate but no username header" };
}
