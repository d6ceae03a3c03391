/**
 * @module diagnostics/serving-cert
 * The adapter's serving certificate as the aggregator sees it: fetched with the name the
 * aggregator asks for (`<service>.<namespace>.svc`), verified against each APIService's
 * caBundle, and judged for expiry and names. Node computes the chain verdict against the bundle
 * while letting the handshake finish, so a bad certificate is still shown, not just refused.
 */
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import type { Check } from "./checks.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Expiry closer than this is a warning: rotation should already have happened. */
export const EXPIRY_WARNING_DAYS = 30;

export interface CertFacts {
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whether the certificate is valid for the name the aggregator checks. */
  readonly namesService: boolean;
  /** `DNS:a, DNS:b, IP Address:…`. */
  readonly altNames: string;
}

export function certFacts(pem: string | Buffer, serviceName: string): CertFacts {
  const c = new X509Certificate(pem);
  return {
    subject: c.subject.replace(/\n/g, ", "),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    namesService: c.checkHost(serviceName, { subject: "never" }) !== undefined,
    altNames: c.subjectAltName ?? "",
  };
}

/** What the handshake found for the caBundle of some APIServices. */
export type ChainVerdict = { readonly apiServices: readonly string[] } & (
  | { readonly outcome: "chains" }
  /** The APIServices skip verification (insecureSkipTLSVerify) or have no caBundle. */
  | { readonly outcome: "unverified" }
  | { readonly outcome: "mismatch"; readonly error: string }
);

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** One check for the certificate: expiry and names, then one per caBundle it must chain to. */
export function judgeServingCert(
  facts: CertFacts,
  serviceName: string,
  verdicts: readonly ChainVerdict[],
  now: Date,
  section = "adapter",
): Check[] {
  const out: Check[] = [];
  const left = Math.floor((facts.notAfter.getTime() - now.getTime()) / DAY_MS);
  const title = `serving certificate ${facts.subject}: valid until ${isoDay(facts.notAfter)}`;
  if (now < facts.notBefore) {
    out.push({
      section,
      status: "fail",
      kind: "cert-not-yet-valid",
      title: `${title}, but not before ${isoDay(facts.notBefore)}`,
      cause: "the certificate is not valid yet (a clock difference between machines?)",
      fix: "check the clocks of the machine that issued it and of the control plane",
    });
  } else if (left < 0) {
    out.push({
      section,
      status: "fail",
      kind: "cert-expired",
      title: `${title} (expired ${String(-left)} days ago)`,
      cause: "the serving certificate has expired: the aggregator refuses it",
      fix: "renew it (the adapter re-reads --tls-cert-file when the file changes) and update the caBundle if its CA changed",
    });
  } else if (left < EXPIRY_WARNING_DAYS) {
    out.push({
      section,
      status: "warn",
      kind: "cert-expiring",
      title: `${title} (${String(left)} days left)`,
      fix: "renew it soon; the adapter re-reads --tls-cert-file when the file changes",
    });
  } else {
    out.push({ section, status: "ok", title: `${title} (${String(left)} days left)` });
  }
  if (!facts.namesService) {
    out.push({
      section,
      status: "fail",
      kind: "cert-name",
      title: `serving certificate does not name ${serviceName}`,
      cause: `the aggregator connects as ${serviceName} and the certificate names only ${facts.altNames || facts.subject}`,
      fix: `reissue it with ${serviceName} among its DNS names`,
    });
  }
  for (const v of verdicts) {
    const names = v.apiServices.join(", ");
    if (v.outcome === "unverified") {
      out.push({
        section,
        status: "warn",
        kind: "cert-unverified",
        title: `${names}: the aggregator does not verify the certificate (insecureSkipTLSVerify or no caBundle)`,
        fix: "set spec.caBundle to the CA that signs the serving certificate, and remove insecureSkipTLSVerify",
      });
    } else if (v.outcome === "chains") {
      out.push({
        section,
        status: "ok",
        title: `serving certificate chains to the caBundle of ${names}`,
      });
    } else {
      out.push({
        section,
        status: "fail",
        kind: "cert-ca-mismatch",
        title: `serving certificate does not chain to the caBundle of ${names}`,
        cause: `verified against that caBundle: ${v.error} (the aggregator reports "x509: certificate signed by unknown authority")`,
        fix: "set the APIService's spec.caBundle to the base64 PEM of the CA that signed the serving certificate",
      });
    }
  }
  return out;
}

export interface TlsPeer {
  readonly pem: string;
  /** null when the chain verifies against `ca`; the OpenSSL reason otherwise. */
  readonly error: string | null;
}

/**
 * Completes a TLS handshake with `host:port` asking for `servername`, and returns the peer's
 * certificate and whether it chains to `ca`. Never sends a request.
 */
export function fetchPeerCertificate(
  host: string,
  port: number,
  servername: string,
  ca: string | undefined,
  timeoutMs = 3000,
): Promise<TlsPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      servername,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
      ...(ca === undefined ? {} : { ca }),
    });
    const timer = setTimeout(() => {
      socket.destroy(
        new Error(`no TLS handshake with ${host}:${String(port)} within ${String(timeoutMs)} ms`),
      );
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerX509Certificate();
      const error = socket.authorized ? null : String(socket.authorizationError);
      socket.end();
      if (cert === undefined) reject(new Error(`${host}:${String(port)} sent no certificate`));
      else resolve({ pem: cert.toString(), error });
    });
    socket.once("error", (e: unknown) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
}
