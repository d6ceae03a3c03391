import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KcmError } from "../errors.ts";
import { inClusterCredentials, kubeconfigCredentials } from "./kubeconfig.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

test("reads the current context's server, inline CA and client certificate", () => {
  const dir = mkdtempSync(join(tmpdir(), "kcm-kc-"));
  const file = join(dir, "config");
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: b
clusters:
  - name: a
    cluster: { server: "https://wrong:1" }
  - name: b
    cluster: { server: "https://127.0.0.1:6443", certificate-authority-data: ${b64("CA")} }
users:
  - name: u
    user: { client-certificate-data: ${b64("CERT")}, client-key: key.pem }
contexts:
  - name: b
    context: { cluster: b, user: u }
`,
  );
  writeFileSync(join(dir, "key.pem"), "KEY");
  const c = kubeconfigCredentials(file);
  assert.equal(c.server, "https://127.0.0.1:6443");
  assert.equal(c.ca, "CA");
  assert.equal(c.cert, "CERT");
  assert.equal(c.key, "KEY", "relative paths resolve against the kubeconfig's folder");
  assert.equal(c.token, undefined);
});

test("tokens come inline or from a file; exec plugins are refused with a clear error", () => {
  const dir = mkdtempSync(join(tmpdir(), "kcm-kc-"));
  const file = join(dir, "config");
  const base = (user: string) => `current-context: c
clusters: [{ name: k, cluster: { server: "https://h:443", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`;
  writeFileSync(file, base("{ token: abc }"));
  const c = kubeconfigCredentials(file);
  assert.equal(c.token?.(), "abc");
  assert.equal(c.insecureSkipTlsVerify, true);
  writeFileSync(join(dir, "tok"), "rotated\n");
  writeFileSync(file, base(`{ tokenFile: ${join(dir, "tok")} }`));
  assert.equal(kubeconfigCredentials(file).token?.(), "rotated");
  writeFileSync(file, base("{ exec: { command: aws } }"));
  assert.throws(() => kubeconfigCredentials(file), /exec or auth-provider plugin/);
});

test("outside a cluster, in-cluster credentials fail; the code's hint names serve's flag", () => {
  assert.throws(
    () => inClusterCredentials({}),
    (e: unknown) =>
      e instanceof KcmError &&
      e.code === "KCM_ERR_KUBE_UNREACHABLE" &&
      // The message names no flag: compare, doctor and explain take --kubeconfig instead.
      !e.message.includes("--") &&
      /check --lister-kubeconfig/.test(e.toLine()),
  );
});
