import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer } from "node:tls";
import { createCa, issue } from "../pki/pki.ts";
import { certFacts, fetchPeerCertificate, judgeServingCert } from "./serving-cert.ts";

const NAME = "k8s-custom-metrics.custom-metrics.svc";
const DAY = 24 * 3600 * 1000;

test("a good certificate: days left, the Service name, the caBundle it chains to", async () => {
  const ca = await createCa("ca");
  const leaf = await issue(ca, { commonName: "adapter", dnsNames: [NAME], usage: "server" });
  const facts = certFacts(leaf.certPem, NAME);
  assert.ok(facts.namesService);
  const checks = judgeServingCert(
    facts,
    NAME,
    [{ apiServices: ["v1beta2.custom.metrics.k8s.io"], outcome: "chains" }],
    new Date(),
  );
  assert.deepEqual(
    checks.map((c) => c.status),
    ["ok", "ok"],
  );
  assert.match(
    checks[0]?.title ?? "",
    /CN=adapter: valid until \d{4}-\d\d-\d\d \((364|365) days left\)/,
  );
});

test("expired, expiring, wrong name, wrong caBundle, unverified", async () => {
  const ca = await createCa("ca");
  const leaf = await issue(ca, {
    commonName: "adapter",
    dnsNames: ["other.svc"],
    usage: "server",
    validDays: 10,
  });
  const facts = certFacts(leaf.certPem, NAME);
  const soon = judgeServingCert(
    facts,
    NAME,
    [
      { apiServices: ["a"], outcome: "mismatch", error: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
      { apiServices: ["b"], outcome: "unverified" },
    ],
    new Date(),
  );
  assert.deepEqual(
    soon.map((c) => [c.status, c.kind]),
    [
      ["warn", "cert-expiring"],
      ["fail", "cert-name"],
      ["fail", "cert-ca-mismatch"],
      ["warn", "cert-unverified"],
    ],
  );
  const late = judgeServingCert(facts, NAME, [], new Date(Date.now() + 20 * DAY));
  assert.equal(late[0]?.kind, "cert-expired");
});

test("the handshake shows the certificate and whether it chains to a bundle", async () => {
  const ca = await createCa("ca");
  const other = await createCa("other");
  const leaf = await issue(ca, { commonName: "adapter", dnsNames: [NAME], usage: "server" });
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  try {
    const good = await fetchPeerCertificate("127.0.0.1", port, NAME, ca.certPem);
    assert.equal(good.error, null);
    assert.ok(certFacts(good.pem, NAME).namesService);
    const bad = await fetchPeerCertificate("127.0.0.1", port, NAME, other.certPem);
    assert.notEqual(bad.error, null);
    await assert.rejects(fetchPeerCertificate("127.0.0.1", 1, NAME, undefined, 500));
  } finally {
    server.close();
  }
});
