import "reflect-metadata";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { createCa, issue, type CertificateAuthority } from "../pki/pki.ts";
import { subjectValues, verifyClientChain } from "./cert-chain.ts";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

/** A CA (or, with isCa false, a non-CA signer) issued by `root`: pki.ts only makes roots. */
async function intermediate(
  root: CertificateAuthority,
  cn: string,
  isCa = true,
): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: "0a1b2c",
    subject: `CN=${cn}`,
    issuer: root.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * DAY),
    signingKey: root.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(isCa, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.cert, false),
    ],
  });
  return { cert, keys, certPem: cert.toString("pem"), keyPem: "" };
}

const pem = (s: string) => new X509Certificate(s);

describe("verifyClientChain", () => {
  let root: CertificateAuthority;
  let other: CertificateAuthority;
  let inter: CertificateAuthority;
  let rootCert: X509Certificate;
  before(async () => {
    root = await createCa("root-ca");
    other = await createCa("other-ca");
    inter = await intermediate(root, "intermediate-ca");
    rootCert = pem(root.certPem);
  });

  test("a client cert issued by the CA verifies", async () => {
    const leaf = pem((await issue(root, { commonName: "alice", usage: "client" })).certPem);
    const r = verifyClientChain([leaf], [rootCert]);
    assert.equal(r.ok, true);
    assert.equal(r.chain.length, 2);
  });

  test("a cert from another CA does not", async () => {
    const leaf = pem((await issue(other, { commonName: "alice", usage: "client" })).certPem);
    assert.deepEqual(verifyClientChain([leaf], [rootCert]), {
      ok: false,
      reason: "x509: certificate signed by unknown authority",
    });
  });

  test("a bundle with several CAs finds the right one", async () => {
    const leaf = pem((await issue(root, { commonName: "alice", usage: "client" })).certPem);
    assert.equal(verifyClientChain([leaf], [pem(other.certPem), rootCert]).ok, true);
  });

  test("intermediates presented by the client are used; missing ones fail", async () => {
    const leaf = pem((await issue(inter, { commonName: "bob", usage: "client" })).certPem);
    const r = verifyClientChain([leaf, pem(inter.certPem)], [rootCert]);
    assert.equal(r.ok, true);
    assert.equal(r.chain.length, 3);
    assert.equal(verifyClientChain([leaf], [rootCert]).ok, false);
  });

  test("a non-CA cert cannot act as an intermediate", async () => {
    const notCa = await intermediate(root, "not-a-ca", false);
    const leaf = pem((await issue(notCa, { commonName: "mallory", usage: "client" })).certPem);
    assert.equal(verifyClientChain([leaf, pem(notCa.certPem)], [rootCert]).ok, false);
  });

  test("expired or not-yet-valid leaves fail", async () => {
    const leaf = pem((await issue(root, { commonName: "alice", usage: "client" })).certPem);
    const later = verifyClientChain([leaf], [rootCert], Date.now() + 400 * DAY);
    assert.equal(later.ok, false);
    assert.match(later.reason, /expired or is not yet valid/);
    assert.equal(verifyClientChain([leaf], [rootCert], Date.now() - DAY).ok, false);
  });

  test("an expired intermediate fails the chain", async () => {
    const leaf = pem(
      (await issue(inter, { commonName: "bob", usage: "client", validDays: 365 })).certPem,
    );
    // The intermediate is valid for 30 days, the leaf for a year.
    assert.equal(
      verifyClientChain([leaf, pem(inter.certPem)], [rootCert], Date.now() + 60 * DAY).ok,
      false,
    );
  });

  test("a connection's chain verified again: kept only while no certificate changes validity", async () => {
    const leaf = pem(
      (await issue(inter, { commonName: "bob", usage: "client", validDays: 365 })).certPem,
    );
    const presented = [leaf, pem(inter.certPem)];
    const roots = [rootCert];
    const now = Date.now();
    const first = verifyClientChain(presented, roots, now);
    assert.equal(first.ok, true);
    assert.equal(verifyClientChain(presented, roots, now + 1000), first);
    // Past the intermediate's 30 days, and before the leaf's start, the same arrays fail.
    assert.equal(verifyClientChain(presented, roots, now + 60 * DAY).ok, false);
    assert.equal(verifyClientChain(presented, roots, now - DAY).ok, false);
    assert.equal(verifyClientChain(presented, roots, now), first);
    // Other roots (a reloaded config) are verified on their own.
    assert.equal(verifyClientChain(presented, [pem(other.certPem)], now).ok, false);
    assert.equal(verifyClientChain(presented, [pem(root.certPem)], now).ok, true);
  });

  test("ExtKeyUsage must allow clientAuth", async () => {
    const server = pem((await issue(root, { commonName: "srv", usage: "server" })).certPem);
    assert.deepEqual(verifyClientChain([server], [rootCert]), {
      ok: false,
      reason: "x509: certificate specifies an incompatible key usage",
    });
    const both = pem((await issue(root, { commonName: "srv", usage: "both" })).certPem);
    assert.equal(verifyClientChain([both], [rootCert]).ok, true);
  });

  test("no EKU at all means any usage", async () => {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: "0b",
      subject: "CN=no-eku",
      issuer: root.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + DAY),
      signingKey: root.keys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(root.cert, false)],
    });
    assert.equal(verifyClientChain([pem(cert.toString("pem"))], [rootCert]).ok, true);
  });

  test("no certificate or no bundle", () => {
    assert.equal(verifyClientChain([], [rootCert]).ok, false);
    assert.equal(verifyClientChain([rootCert], []).ok, false);
  });

  test("subjectValues reads CN and repeated O", async () => {
    const c = pem(
      (await issue(root, { commonName: "carol", organizations: ["a", "b,c"], usage: "client" }))
        .certPem,
    );
    assert.deepEqual(subjectValues(c, "CN"), ["carol"]);
    assert.deepEqual(subjectValues(c, "O"), ["a", "b,c"]);
    assert.deepEqual(subjectValues(c, "OU"), []);
  });
});
