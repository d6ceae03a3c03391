import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createCa, issue, loadCa } from "./pki.ts";

test("issues a server certificate that chains to its CA with the requested SANs", async () => {
  const ca = await createCa("test-ca");
  const leaf = await issue(ca, {
    commonName: "kube-apiserver",
    dnsNames: ["localhost", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
  });
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(leaf.certPem);
  assert.ok(caCert.ca);
  assert.ok(cert.verify(caCert.publicKey));
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.checkHost("kubernetes.default.svc"), "kubernetes.default.svc");
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(cert.checkHost("example.com"), undefined);
  assert.match(cert.subject, /CN=kube-apiserver/);
});

test("client certificates carry organizations as groups and a reloaded CA can issue more", async () => {
  const ca = await createCa("client-ca");
  const again = await loadCa(ca.certPem, ca.keyPem);
  const leaf = await issue(again, {
    commonName: "admin",
    organizations: ["system:masters"],
    usage: "client",
  });
  const cert = new X509Certificate(leaf.certPem);
  assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
  assert.match(cert.subject, /O=system:masters/);
  assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
});
