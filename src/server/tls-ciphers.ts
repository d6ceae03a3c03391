/**
 * @module server/tls-ciphers
 * `--tls-cipher-suites` as the generic apiserver takes it: Go crypto/tls cipher suite names
 * (k8s.io/component-base cli/flag/ciphersuites_flag.go accepts every name of
 * `tls.CipherSuites()` and `tls.InsecureCipherSuites()`, plus two legacy ChaCha20 names), mapped
 * to the OpenSSL names Node.js takes.
 *
 * Real manifests pass suites that are fine in Go but that OpenSSL may not build (RC4, 3DES). Such
 * a name is accepted with one warning instead of stopping the adapter: the manifest asked for a
 * list to pick from, and the others still serve.
 */
import { getCiphers } from "node:tls";
import { KcmError } from "../errors.ts";

/**
 * Every TLS 1.0–1.2 suite name in Go's `tls.CipherSuites()` or `tls.InsecureCipherSuites()`
 * (IANA names, which are also OpenSSL's "standard" names) → the OpenSSL name (`openssl ciphers
 * -stdname`). Which list a name is in has changed between Go versions; the names have not.
 */
const TLS12_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  // The legacy names component-base keeps for backward compatibility.
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  // RC4, 3DES and CBC-SHA256: always in tls.InsecureCipherSuites().
  TLS_RSA_WITH_RC4_128_SHA: "RC4-SHA",
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: "DES-CBC3-SHA",
  TLS_RSA_WITH_AES_128_CBC_SHA256: "AES128-SHA256",
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: "ECDHE-ECDSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: "ECDHE-RSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: "ECDHE-RSA-DES-CBC3-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "ECDHE-ECDSA-AES128-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: "ECDHE-RSA-AES128-SHA256",
};

/**
 * TLS 1.3 suites (same name in Go, IANA and OpenSSL). Go accepts them in the flag but does not let
 * them be configured: TLS 1.3 always offers all three. Node.js' default order.
 */
export const TLS13_SUITES: readonly string[] = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_GCM_SHA256",
];

/** Every name `--tls-cipher-suites` accepts, as Go's flag does. */
export const GO_CIPHER_SUITE_NAMES: readonly string[] = [
  ...Object.keys(TLS12_SUITES),
  ...TLS13_SUITES,
];

/** The OpenSSL name of a Go TLS 1.0–1.2 suite name; undefined for TLS 1.3 and unknown names. */
export function opensslSuiteName(goName: string): string | undefined {
  return TLS12_SUITES[goName];
}

export interface CipherSelection {
  /** The OpenSSL cipher string for Node.js, or undefined for Node.js' defaults (no flag). */
  readonly ciphers: string | undefined;
  /** Go names accepted but that this Node.js/OpenSSL build cannot offer, in flag order. */
  readonly unavailable: readonly string[];
  /** True when no TLS 1.2 suite of the list can be offered, so only TLS 1.3 is served. */
  readonly tls13Only: boolean;
}

/**
 * The OpenSSL cipher string for Go cipher suite names. An unknown name is a usage error, as in
 * Go; a known one OpenSSL cannot offer is reported in `unavailable` (the caller warns once).
 * TLS 1.3 suites are always all offered, as in Go: without them in the string Node.js would offer
 * only the TLS 1.3 suites named.
 */
export function selectCiphers(
  goNames: readonly string[],
  available: ReadonlySet<string> = new Set(getCiphers()),
): CipherSelection {
  if (goNames.length === 0) return { ciphers: undefined, unavailable: [], tls13Only: false };
  const tls12: string[] = [];
  const unavailable: string[] = [];
  for (const name of goNames) {
    if (TLS13_SUITES.includes(name)) continue;
    const openssl = opensslSuiteName(name);
    if (openssl === undefined) {
      throw new KcmError(
        "KCM_ERR_USAGE",
        `unknown --tls-cipher-suites entry ${JSON.stringify(name)}: use Go crypto/tls cipher suite names (docs/flags.md)`,
      );
    }
    // tls.getCiphers() lists OpenSSL names in lower case.
    if (!available.has(openssl.toLowerCase())) {
      if (!unavailable.includes(name)) unavailable.push(name);
    } else if (!tls12.includes(openssl)) tls12.push(openssl);
  }
  return {
    ciphers: [...tls12, ...TLS13_SUITES].join(":"),
    unavailable,
    // Go with only TLS 1.3 names (or only suites it cannot use) fails every TLS 1.2 handshake;
    // Node.js given only TLS 1.3 suites does the same by raising the minimum version.
    tls13Only: tls12.length === 0,
  };
}
