import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { isKcmError } from "../errors.ts";
import { createCa, issue } from "../pki/pki.ts";
import { listenSecure } from "./secure-serving.ts";
import { certificateNames, lookup, nameTable, parseSniCertKey } from "./sni-certificates.ts";

test("a flag value: CERT,KEY with or without names, spaces trimmed", () => {
  assert.deepEqual(parseSniCertKey("a.crt,a.key"), {
    certFile: "a.crt",
    keyFile: "a.key",
    names: [],
  });
  assert.deepEqual(parseSniCertKey(" a.crt , a.key : *.x.io, x.io "), {
    certFile: "a.crt",
    keyFile: "a.key",
    names: ["*.x.io", "x.io"],
  });
  for (const [bad, why] of [
    ["a.crt", /expected CERTFILE,KEYFILE/],
    ["a.crt,a.key,b", /expected CERTFILE,KEYFILE/],
    ["a.crt,a.key:", /the list of names after ':' is empty/],
  ] as const) {
    assert.throws(
      () => parseSniCertKey(bad),
      (e: unknown) => isKcmError(e) && e.code === "KCM_ERR_USAGE" && why.test(e.message),
    );
  }
});

test("a certificate's own names: a DNS-shaped CN, then DNS SANs; never an IP", async () => {
  const ca = await createCa("test-ca");
  const named = await issue(ca, {
    commonName: "api.example.com",
    dnsNames: ["a.example.com", "*.b.example.com"],
    ipAddresses: ["10.0.0.1"],
    usage: "server",
  });
  assert.deepEqual(certificateNames(named.certPem), [
    "api.example.com",
    "a.example.com",
    "*.b.example.com",
  ]);
  const ip = await issue(ca, { commonName: "10.0.0.2", usage: "server" });
  assert.deepEqual(certificateNames(ip.certPem), []);
  const label = await issue(ca, { commonName: "My Server", dnsNames: ["s"], usage: "server" });
  assert.deepEqual(certificateNames(label.certPem), ["s"]);
});

test("earlier pairs win a name, given names win over a certificate's; wildcards one label deep", () => {
  const table = nameTable([
    { given: [], own: ["a.io", "*.w.io"], value: "first" },
    { given: [], own: ["a.io", "b.io"], value: "second" },
    { given: ["b.io"], own: [], value: "third" },
  ]);
  assert.equal(lookup(table, "a.io"), "first");
  assert.equal(lookup(table, "B.IO"), "third");
  assert.equal(lookup(table, "x.w.io"), "first");
  assert.equal(lookup(table, "y.x.w.io"), undefined);
  assert.equal(lookup(table, "c.io"), undefined);
  assert.equal(lookup(table, ""), undefined);
});

test("the server hands out the certificate for the name the client asks for", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kcm-sni-"));
  const ca = await createCa("sni-ca");
  const write = async (name: string, pair: { certPem: string; keyPem: string }) => {
    await writeFile(join(dir, `${name}.crt`), pair.certPem);
    await writeFile(join(dir, `${name}.key`), pair.keyPem);
    return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  };
  const main = await write("main", await issue(ca, { commonName: "main", usage: "server" }));
  const own = await write(
    "own",
    await issue(ca, {
      commonName: "own.example.com",
      dnsNames: ["*.own.example.com"],
      usage: "server",
    }),
  );
  const given = await write("given", await issue(ca, { commonName: "given", usage: "server" }));
  const secure = await listenSecure(
    {
      bindAddress: "127.0.0.1",
      port: 0,
      ...main,
      certDir: dir,
      clientCaPem: () => "",
      sniCertKeys: [
        { ...own, names: [] },
        { ...given, names: ["metrics.example.com"] },
      ],
    },
    (_req, res) => res.end(),
  );
  try {
    const port = (secure.server.address() as AddressInfo).port;
    const served = (servername: string | undefined) =>
      new Promise<string>((resolve, reject) => {
        const s = connect({
          host: "127.0.0.1",
          port,
          ...(servername === undefined ? {} : { servername }),
          rejectUnauthorized: false,
        });
        s.once("secureConnect", () => {
          resolve(s.getPeerX509Certificate()?.subject ?? "");
          s.destroy();
        });
        s.once("error", reject);
      });
    assert.equal(await served("own.example.com"), "CN=own.example.com");
    assert.equal(await served("x.own.example.com"), "CN=own.example.com");
    assert.equal(await served("metrics.example.com"), "CN=given");
    assert.equal(await served("other.example.com"), "CN=main");
    assert.equal(await served(undefined), "CN=main");
    // Rotated files are served after a reload (the timer's, or this one).
    await write("given", await issue(ca, { commonName: "given-2", usage: "server" }));
    secure.reload();
    assert.equal(await served("metrics.example.com"), "CN=given-2");
    // One pair broken mid-rotation keeps its last good certificate and holds back no other.
    await writeFile(own.keyFile, "not a key");
    await write("given", await issue(ca, { commonName: "given-3", usage: "server" }));
    await write("main", await issue(ca, { commonName: "main-2", usage: "server" }));
    secure.reload();
    assert.equal(await served("own.example.com"), "CN=own.example.com");
    assert.equal(await served("metrics.example.com"), "CN=given-3");
    assert.equal(await served("other.example.com"), "CN=main-2");
  } finally {
    await secure.shutdown(0);
    await rm(dir, { recursive: true, force: true });
  }
});
