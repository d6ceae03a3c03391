import { test } from "node:test";
import assert from "node:assert/strict";
import { isKcmError } from "../../errors.ts";
import { servingFlags, validateServing, type ServingFlagValues } from "./serving.ts";
import { parseFlags } from "./test-parse.ts";

const validate = (...argv: string[]) =>
  validateServing(parseFlags<ServingFlagValues>(servingFlags, argv));

test("defaults: HTTPS on 0.0.0.0:6443, a self-signed certificate, Node.js' TLS defaults", () => {
  const c = validate();
  assert.equal(c.bindAddress, "0.0.0.0");
  assert.equal(c.securePort, 6443);
  assert.equal(c.certDir, "apiserver.local.config/certificates");
  assert.equal(c.minVersion, undefined);
  assert.equal(c.ciphers.ciphers, undefined);
  assert.equal(c.insecurePort, undefined);
  assert.equal(c.shutdownGraceMs, 30_000);
  assert.equal(c.shutdownDelayMs, 0);
  assert.equal(c.http1Only, false);
  assert.equal(c.serverAddress, ":6443");
});

test("the plain-HTTP port is the server address when given", () => {
  const c = validate("--insecure-http-port=8080", "--disable-http2");
  assert.equal(c.insecurePort, 8080);
  assert.equal(c.serverAddress, ":8080");
  assert.equal(c.http1Only, true);
});

test("TLS versions and cipher suites by their Go names", () => {
  assert.equal(validate("--tls-min-version=VersionTLS13").minVersion, "TLSv1.3");
  const c = validate("--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  assert.match(c.ciphers.ciphers ?? "", /ECDHE-RSA-AES128-GCM-SHA256/);
});

test("a wrong TLS version or cipher name is a usage error", () => {
  const usage = (re: RegExp) => (e: unknown) =>
    isKcmError(e) && e.code === "KCM_ERR_USAGE" && re.test(e.message);
  assert.throws(() => validate("--tls-min-version=VersionTLS10"), usage(/not supported by Node/));
  assert.throws(() => validate("--tls-min-version=x"), usage(/unknown --tls-min-version "x"/));
  assert.throws(
    () => validate("--tls-cipher-suites=FOO"),
    usage(/unknown --tls-cipher-suites entry "FOO"/),
  );
});

test("--shutdown-delay-duration takes a Go duration, as k8s.io/apiserver's", () => {
  assert.equal(validate("--shutdown-delay-duration=5s").shutdownDelayMs, 5_000);
  assert.equal(validate("--shutdown-delay-duration=1m30s").shutdownDelayMs, 90_000);
});

test("a serving certificate without its key, or a key alone, is a usage error", () => {
  for (const [arg, given] of [
    ["--tls-cert-file=/c.crt", "--tls-cert-file"],
    ["--tls-private-key-file=/c.key", "--tls-private-key-file"],
  ] as const) {
    assert.throws(
      () => validate(arg),
      (e: unknown) =>
        isKcmError(e) &&
        e.code === "KCM_ERR_USAGE" &&
        e.message.includes(`only ${given} was given`),
    );
  }
  const both = validate("--tls-cert-file=/c.crt", "--tls-private-key-file=/c.key");
  assert.deepEqual([both.certFile, both.keyFile], ["/c.crt", "/c.key"]);
});
