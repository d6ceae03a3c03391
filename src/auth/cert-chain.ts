/**
 * @module auth/cert-chain
 * Client-certificate verification as Go's `x509.Certificate.Verify` does it for Kubernetes
 * (k8s.io/apiserver pkg/authentication/request/x509/x509.go): the leaf must chain to a CA in the
 * bundle, possibly through intermediates the client presented; every certificate in the chain
 * must be within its validity period and permit ExtKeyUsage clientAuth (no EKU means any usage).
 */
import type { X509Certificate } from "node:crypto";

const EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const EKU_ANY = "2.5.29.37.0";
const MAX_DEPTH = 8;

export type ChainResult =
  | { readonly ok: true; readonly chain: readonly X509Certificate[] }
  | { readonly ok: false; readonly reason: string };

function notBefore(c: X509Certificate): number {
  return Date.parse(c.validFrom);
}

function notAfter(c: X509Certificate): number {
  return Date.parse(c.validTo);
}

function validAt(c: X509Certificate, now: number): boolean {
  return notBefore(c) <= now && now <= notAfter(c);
}

/** Go's checkChainForKeyUsage for a single usage. */
function allowsClientAuth(c: X509Certificate): boolean {
  const ekus = c.keyUsage as string[] | undefined;
  if (ekus === undefined || ekus.length === 0) return true;
  return ekus.includes(EKU_CLIENT_AUTH) || ekus.includes(EKU_ANY);
}

/** Signature checks, memoized per certificate pair: certificates are immutable. */
const signatures = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  let byParent = signatures.get(child);
  if (byParent === undefined) {
    byParent = new WeakMap();
    signatures.set(child, byParent);
  }
  let ok = byParent.get(parent);
  if (ok === undefined) {
    try {
      ok = child.checkIssued(parent) && child.verify(parent.publicKey);
    } catch {
      ok = false;
    }
    byParent.set(parent, ok);
  }
  return ok;
}

function sameCert(a: X509Certificate, b: X509Certificate): boolean {
  return a.raw.equals(b.raw);
}

/** Depth-first search for chains leaf → … → root; returns every complete chain found. */
function buildChains(
  current: readonly X509Certificate[],
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number,
  out: X509Certificate[][],
): void {
  const tip = current[current.length - 1];
  if (tip === undefined || current.length > MAX_DEPTH) return;
  for (const root of roots) {
    if (sameCert(tip, root)) out.push([...current]);
    else if (signedBy(tip, root)) out.push([...current, root]);
  }
  for (const inter of intermediates) {
    // Go refuses non-CA intermediates (NotAuthorizedToSign) and expired ones while building.
    if (!inter.ca || !validAt(inter, now) || current.some((c) => sameCert(c, inter))) continue;
    if (signedBy(tip, inter)) buildChains([...current, inter], intermediates, roots, now, out);
  }
}

/** A successful verification, and the span of clock times in which it holds. */
interface Verified {
  readonly from: number;
  readonly until: number;
  readonly result: ChainResult;
}

/**
 * Successful verifications by presented chain and roots: the server parses a connection's chain
 * once (auth/peer-certificates) and the roots change only with the config, so every request of a
 * connection asks again about the same two arrays.
 */
const verifications = new WeakMap<
  readonly X509Certificate[],
  WeakMap<readonly X509Certificate[], Verified>
>();

/**
 * The clock times around `now` at which every one of `certs` is valid or not exactly as at
 * `now`. A verification reads the clock only through that validity, so its outcome at `now` is
 * its outcome at any time in the span.
 */
function sameValiditySpan(certs: readonly X509Certificate[], now: number): [number, number] {
  let from = -Infinity;
  let until = Infinity;
  for (const c of certs) {
    const start = notBefore(c);
    const end = notAfter(c);
    if (start <= now) from = Math.max(from, start);
    else until = Math.min(until, start - 1);
    if (end >= now) until = Math.min(until, end);
    else from = Math.max(from, end + 1);
  }
  return [from, until];
}

/**
 * Verifies `presented[0]` against `roots`, using `presented[1..]` as intermediates. Reasons read
 * like Go's x509 errors, for logs. A success is kept for the same two arrays while the clock stays
 * within the span where no certificate involved becomes valid or expires; neither array may be
 * changed afterwards (both are shared: per connection, per config).
 */
export function verifyClientChain(
  presented: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number = Date.now(),
): ChainResult {
  const kept = verifications.get(presented)?.get(roots);
  if (kept !== undefined && kept.from <= now && now <= kept.until) return kept.result;
  const result = verify(presented, roots, now);
  if (result.ok) {
    const [from, until] = sameValiditySpan([...presented, ...roots], now);
    let byRoots = verifications.get(presented);
    if (byRoots === undefined) {
      byRoots = new WeakMap();
      verifications.set(presented, byRoots);
    }
    byRoots.set(roots, { from, until, result });
  }
  return result;
}

function verify(
  presented: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number,
): ChainResult {
  const leaf = presented[0];
  if (leaf === undefined) return { ok: false, reason: "no client certificate" };
  if (roots.length === 0) return { ok: false, reason: "no CA bundle to verify against" };
  if (!validAt(leaf, now)) {
    return {
      ok: false,
      reason: `x509: certificate has expired or is not yet valid: current time ${new Date(now).toISOString()} is outside ${new Date(notBefore(leaf)).toISOString()}..${new Date(notAfter(leaf)).toISOString()}`,
    };
  }
  const chains: X509Certificate[][] = [];
  buildChains([leaf], presented.slice(1), roots, now, chains);
  if (chains.length === 0) {
    return { ok: false, reason: "x509: certificate signed by unknown authority" };
  }
  let lastReason = "";
  for (const chain of chains) {
    const expired = chain.find((c) => !validAt(c, now));
    if (expired) {
      lastReason = `x509: certificate has expired or is not yet valid: ${expired.subject.replace(/\n/g, ", ")}`;
      continue;
    }
    if (!chain.every(allowsClientAuth)) {
      lastReason = "x509: certificate specifies an incompatible key usage";
      continue;
    }
    return { ok: true, chain };
  }
  return { ok: false, reason: lastReason };
}

type Subject = Record<string, string | string[] | undefined>;
const subjects = new WeakMap<X509Certificate, Subject>();

/** Values of one subject attribute (`CN`, `O`…), in certificate order. */
export function subjectValues(cert: X509Certificate, key: string): string[] {
  let subject = subjects.get(cert);
  if (subject === undefined) {
    subject = cert.toLegacyObject().subject;
    subjects.set(cert, subject);
  }
  const v = subject[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
