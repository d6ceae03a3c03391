/**
 * @module server/sni-certificates
 * `--tls-sni-cert-key`: more serving certificates, picked by the name a client asks for (TLS SNI),
 * as the generic apiserver picks them. Mirrors k8s.io/apiserver
 * pkg/server/dynamiccertificates/named_certificates.go (which names a pair serves, which pair
 * wins a name) and Go's crypto/tls Config.getCertificate (the lookup).
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { KcmError } from "../errors.ts";

export interface SniCertKey {
  readonly certFile: string;
  readonly keyFile: string;
  /** The names given after `:`; none: the certificate's own. */
  readonly names: readonly string[];
}

/** One flag value, `CERT,KEY` or `CERT,KEY:NAME[,NAME…]`, as component-base's NamedCertKey. */
export function parseSniCertKey(value: string): SniCertKey {
  const colon = value.indexOf(":");
  const pair = (colon < 0 ? value : value.slice(0, colon)).trim();
  let names: string[] = [];
  if (colon >= 0) {
    const list = value.slice(colon + 1).trim();
    if (list === "") throw usage(value, "the list of names after ':' is empty");
    names = list.split(",").map((n) => n.trim());
  }
  const files = pair.split(",");
  if (files.length !== 2) throw usage(value, "expected CERTFILE,KEYFILE[:NAME,…]");
  return { certFile: files[0]?.trim() ?? "", keyFile: files[1]?.trim() ?? "", names };
}

function usage(value: string, why: string): KcmError {
  return new KcmError("KCM_ERR_USAGE", `--tls-sni-cert-key=${value}: ${why}`);
}

/** A DNS-1123 subdomain, as Kubernetes validates names. */
const DNS_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The names a certificate serves when the flag names none: its CN when that is a DNS name (or
 * `*`, or `*.` one), never an IP, then its DNS SANs. IP SANs are left out: SNI never carries one.
 */
export function certificateNames(certPem: string | Buffer): string[] {
  const cert = new X509Certificate(certPem);
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? "";
  const names: string[] = [];
  if (isIP(cn) === 0 && (cn === "*" || DNS_SUBDOMAIN.test(cn.replace(/^\*\./, "")))) {
    names.push(cn);
  }
  for (const san of (cert.subjectAltName ?? "").split(", ")) {
    if (san.startsWith("DNS:")) names.push(san.slice(4));
  }
  return names;
}

/**
 * Name → the pair that serves it: earlier pairs win a name over later ones, and a name given on
 * the flag wins over one read from a certificate.
 */
export function nameTable<T>(
  pairs: readonly {
    readonly given: readonly string[];
    readonly own: readonly string[];
    readonly value: T;
  }[],
): Map<string, T> {
  const table = new Map<string, T>();
  const explicit = new Map<string, T>();
  for (const p of [...pairs].reverse()) {
    for (const name of p.given) explicit.set(name, p.value);
    if (p.given.length === 0) for (const name of p.own) table.set(name, p.value);
  }
  for (const [name, value] of explicit) table.set(name, value);
  return table;
}

/** Go's lookup: the name in lower case, then with its first label as `*`. */
export function lookup<T>(table: ReadonlyMap<string, T>, serverName: string): T | undefined {
  const name = serverName.toLowerCase();
  const exact = table.get(name);
  if (exact !== undefined || name === "") return exact;
  const labels = name.split(".");
  labels[0] = "*";
  return table.get(labels.join("."));
}
