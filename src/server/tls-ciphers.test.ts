/**
 * @module server/tls-ciphers.test
 * Go cipher suite names to OpenSSL: every name Go's flag takes is accepted, the ones this OpenSSL
 * lacks are reported (not fatal), and each one it has is the suite a TLS 1.2 handshake really
 * negotiates.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { once } from "node:events";
import { webcrypto } from "node:crypto";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { connect, createSecureContext, createServer, type Server } from "node:tls";
import * as x509 from "@peculiar/x509";
import { isKcmError } from "../errors.ts";
import { createCa, issue } from "../pki/pki.ts";
import {
  GO_CIPHER_SUITE_NAMES,
  TLS13_SUITES,
  opensslSuiteName,
  selectCiphers,
} from "./tls-ciphers.ts";

/** kube-prometheus manifests/prometheusAdapter-deployment.yaml (test/fixtures/drop-in/). */
const KUBE_PROMETHEUS = [
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
];

/** The names component-base's flag knows: Go's CipherSuites() and InsecureCipherSuites(). */
const GO_NAMES = [
  ...KUBE_PROMETHEUS,
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
];

test("every name Go's --tls-cipher-suites takes is known, and no other", () => {
  assert.deepEqual([...GO_CIPHER_SUITE_NAMES].sort(), [...GO_NAMES].sort());
});

test("kube-prometheus' list maps to OpenSSL names, TLS 1.3 suites always added", () => {
  const s = selectCiphers(KUBE_PROMETHEUS);
  assert.deepEqual(s.unavailable, []);
  assert.equal(s.tls13Only, false);
  assert.equal(
    s.ciphers,
    [
      "ECDHE-RSA-CHACHA20-POLY1305",
      "ECDHE-ECDSA-CHACHA20-POLY1305",
      "ECDHE-RSA-AES128-GCM-SHA256",
      "ECDHE-RSA-AES256-GCM-SHA384",
      "ECDHE-ECDSA-AES128-GCM-SHA256",
      "ECDHE-ECDSA-AES256-GCM-SHA384",
      "ECDHE-RSA-AES128-SHA",
      "ECDHE-ECDSA-AES128-SHA256",
      "ECDHE-ECDSA-AES128-SHA",
      "ECDHE-RSA-AES256-SHA",
      "ECDHE-ECDSA-AES256-SHA",
      "AES128-GCM-SHA256",
      "AES256-GCM-SHA384",
      "AES128-SHA",
      "AES256-SHA",
      ...TLS13_SUITES,
    ].join(":"),
  );
});

test("no flag: Node.js' defaults", () => {
  assert.deepEqual(selectCiphers([]), { ciphers: undefined, unavailable: [], tls13Only: false });
});

test("an unknown name is a usage error; a Go name OpenSSL lacks is only reported", () => {
  assert.throws(
    () => selectCiphers(["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"]),
    (e: unknown) =>
      isKcmError(e) &&
      e.code === "KCM_ERR_USAGE" &&
      e.message.includes('unknown --tls-cipher-suites entry "ECDHE-RSA-AES128-GCM-SHA256"'),
  );
  const available = new Set(["ecdhe-rsa-aes128-gcm-sha256"]);
  const s = selectCiphers(
    [
      "TLS_RSA_WITH_RC4_128_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
      "TLS_RSA_WITH_RC4_128_SHA",
    ],
    available,
  );
  assert.deepEqual(s.unavailable, ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]);
  assert.equal(s.ciphers, ["ECDHE-RSA-AES128-GCM-SHA256", ...TLS13_SUITES].join(":"));
  assert.equal(s.tls13Only, false);
});

test("only TLS 1.3 names, or only suites OpenSSL lacks: TLS 1.3 only, as Go ends up", () => {
  assert.deepEqual(selectCiphers(["TLS_AES_128_GCM_SHA256"]), {
    ciphers: TLS13_SUITES.join(":"),
    unavailable: [],
    tls13Only: true,
  });
  const s = selectCiphers(["TLS_RSA_WITH_RC4_128_SHA"], new Set());
  assert.deepEqual(s, {
    ciphers: TLS13_SUITES.join(":"),
    unavailable: ["TLS_RSA_WITH_RC4_128_SHA"],
    tls13Only: true,
  });
});

test("this Node.js: the suites reported unavailable are the ones OpenSSL refuses", () => {
  const { unavailable } = selectCiphers(GO_NAMES);
  // Node.js 20's OpenSSL 3 builds RC4 and 3DES only into the legacy provider.
  assert.deepEqual([...unavailable].sort(), GO_NAMES.filter((n) => /_RC4_|_3DES_/.test(n)).sort());
  for (const name of unavailable) {
    const openssl = opensslSuiteName(name);
    assert.ok(openssl, name);
    assert.throws(() => createSecureContext({ ciphers: openssl }), /no cipher match/, name);
  }
});

// Real TLS 1.2 handshakes, one per suite this OpenSSL offers: the suite negotiated is the one named.
const RSA_ALG = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
let rsa: { cert: string; key: string };
let ecdsa: { cert: string; key: string };

before(async () => {
  const keys = await webcrypto.subtle.generateKey(RSA_ALG, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=localhost",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: RSA_ALG,
  });
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  rsa = { cert: cert.toString("pem"), key: x509.PemConverter.encode(der, "PRIVATE KEY") };
  const ca = await createCa("tls-ciphers-test");
  const leaf = await issue(ca, { commonName: "localhost", usage: "server" });
  ecdsa = { cert: leaf.certPem, key: leaf.keyPem };
});

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function negotiated(
  goName: string,
): Promise<{ standardName: string; protocol: string | null }> {
  const { ciphers } = selectCiphers([goName]);
  const pair = goName.includes("_ECDSA_") ? ecdsa : rsa;
  const server = createServer({ ...pair, ...(ciphers ? { ciphers } : {}) }, (s) => s.end());
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const socket = connect({
    host: "127.0.0.1",
    port: (server.address() as AddressInfo).port,
    rejectUnauthorized: false,
    maxVersion: "TLSv1.2",
    // The client offers everything this OpenSSL can, so only the server's list decides.
    ciphers: "ALL:@SECLEVEL=0",
  });
  try {
    await once(socket, "secureConnect");
    return { standardName: socket.getCipher().standardName, protocol: socket.getProtocol() };
  } finally {
    socket.destroy();
    server.close();
  }
}

test("each suite this OpenSSL offers is the one a TLS 1.2 handshake negotiates", async () => {
  const { unavailable } = selectCiphers(GO_NAMES);
  const offered = GO_NAMES.filter((n) => !TLS13_SUITES.includes(n) && !unavailable.includes(n));
  assert.ok(offered.length >= 17, `offered: ${offered.join(",")}`);
  for (const name of offered) {
    const got = await negotiated(name);
    // The legacy ChaCha20 names are Go aliases of the _SHA256 ones.
    const standard = name.endsWith("_CHACHA20_POLY1305") ? `${name}_SHA256` : name;
    assert.deepEqual(got, { standardName: standard, protocol: "TLSv1.2" }, name);
  }
});
