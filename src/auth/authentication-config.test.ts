import { before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { KubeApiError } from "../kube/client.ts";
import { createCa } from "../pki/pki.ts";
import {
  AuthConfigError,
  DynamicAuthenticationConfig,
  parseAuthenticationConfigMap,
  parsePemBundle,
  resolveAuthenticationConfig,
  type AuthenticationConfig,
} from "./authentication-config.ts";
import type { KubeJson } from "./types.ts";

let clientCa: string;
let frontProxyCa: string;
let otherCa: string;

before(async () => {
  clientCa = (await createCa("client-ca")).certPem;
  frontProxyCa = (await createCa("front-proxy-ca")).certPem;
  otherCa = (await createCa("other-ca")).certPem;
});

/** The ConfigMap as kube-apiserver's cluster_authentication_trust_controller writes it. */
function configMapData(): Record<string, string> {
  return {
    "client-ca-file": clientCa,
    "requestheader-client-ca-file": frontProxyCa,
    "requestheader-allowed-names": '["front-proxy-client"]',
    "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
    "requestheader-group-headers": '["X-Remote-Group"]',
    "requestheader-username-headers": '["X-Remote-User"]',
    "requestheader-uid-headers": '["X-Remote-Uid"]',
  };
}

const subjects = (c: AuthenticationConfig) => ({
  clientCa: c.clientCa.map((x) => x.subject),
  requestHeaderCa: c.requestHeader?.caBundle.map((x) => x.subject),
});

/** A fake API client answering GETs of the ConfigMap from a mutable slot. */
function fakeClient(answer: () => Record<string, string> | Error): KubeJson & { calls: number } {
  const fake = {
    calls: 0,
    json<T>(): Promise<T> {
      fake.calls++;
      const a = answer();
      return a instanceof Error ? Promise.reject(a) : Promise.resolve({ data: a } as T);
    },
  };
  return fake;
}

describe("parseAuthenticationConfigMap", () => {
  test("reads CA bundles and JSON header lists", () => {
    const p = parseAuthenticationConfigMap(configMapData());
    assert.deepEqual(
      p.clientCa.map((c) => c.subject),
      ["CN=client-ca"],
    );
    assert.deepEqual(
      p.requestHeader.caBundle.map((c) => c.subject),
      ["CN=front-proxy-ca"],
    );
    assert.deepEqual(p.requestHeader.usernameHeaders, ["X-Remote-User"]);
    assert.deepEqual(p.requestHeader.groupHeaders, ["X-Remote-Group"]);
    assert.deepEqual(p.requestHeader.extraHeaderPrefixes, ["X-Remote-Extra-"]);
    assert.deepEqual(p.requestHeader.uidHeaders, ["X-Remote-Uid"]);
    assert.deepEqual(p.requestHeader.allowedNames, ["front-proxy-client"]);
  });

  test("missing keys, empty strings and null read as empty", () => {
    const p = parseAuthenticationConfigMap({
      "requestheader-allowed-names": "",
      "requestheader-group-headers": "null",
    });
    assert.equal(p.clientCa.length, 0);
    assert.equal(p.requestHeader.caBundle.length, 0);
    assert.deepEqual(p.requestHeader.allowedNames, []);
    assert.deepEqual(p.requestHeader.groupHeaders, []);
    assert.deepEqual(p.requestHeader.usernameHeaders, []);
  });

  test("a concatenated bundle gives every certificate", () => {
    assert.equal(parsePemBundle(clientCa + otherCa, "bundle").length, 2);
  });

  test("malformed values are AuthConfigErrors", () => {
    assert.throws(
      () => parseAuthenticationConfigMap({ "requestheader-username-headers": "X-Remote-User" }),
      AuthConfigError,
    );
    assert.throws(
      () => parseAuthenticationConfigMap({ "requestheader-username-headers": "[1]" }),
      /not a JSON array of strings/,
    );
    assert.throws(
      () =>
        parseAuthenticationConfigMap({
          "client-ca-file": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        }),
      /client-ca-file: certificate 1 is not valid PEM/,
    );
  });
});

describe("resolveAuthenticationConfig (DelegatingAuthenticationOptions.ApplyTo)", () => {
  test("without flags everything comes from the ConfigMap", () => {
    const c = resolveAuthenticationConfig({}, {}, parseAuthenticationConfigMap(configMapData()));
    assert.deepEqual(subjects(c), {
      clientCa: ["CN=client-ca"],
      requestHeaderCa: ["CN=front-proxy-ca"],
    });
    assert.deepEqual(c.sources, { clientCa: "configmap", requestHeader: "configmap" });
    assert.deepEqual(c.requestHeader?.allowedNames, ["front-proxy-client"]);
  });

  test("--client-ca-file wins over the ConfigMap", () => {
    const c = resolveAuthenticationConfig(
      { clientCaFile: "/ca.crt" },
      { clientCa: otherCa },
      parseAuthenticationConfigMap(configMapData()),
    );
    assert.deepEqual(subjects(c).clientCa, ["CN=other-ca"]);
    assert.deepEqual(c.sources, { clientCa: "flag", requestHeader: "configmap" });
  });

  test("--requestheader-client-ca-file takes all requestheader settings from flags", () => {
    const c = resolveAuthenticationConfig(
      { requestheaderClientCaFile: "/fp.crt", requestheaderAllowedNames: ["aggregator"] },
      { requestHeaderCa: otherCa },
      parseAuthenticationConfigMap(configMapData()),
    );
    assert.deepEqual(subjects(c).requestHeaderCa, ["CN=other-ca"]);
    assert.deepEqual(c.requestHeader?.allowedNames, ["aggregator"]);
    // Flag defaults, not the ConfigMap's header names.
    assert.deepEqual(c.requestHeader.usernameHeaders, ["x-remote-user"]);
    assert.deepEqual(c.requestHeader.groupHeaders, ["x-remote-group"]);
    assert.deepEqual(c.requestHeader.extraHeaderPrefixes, ["x-remote-extra-"]);
    assert.deepEqual(c.requestHeader.uidHeaders, []);
    assert.deepEqual(c.sources, { clientCa: "configmap", requestHeader: "flag" });
  });

  test("header flags without the CA flag are ignored, as upstream", () => {
    const c = resolveAuthenticationConfig(
      { requestheaderUsernameHeaders: ["X-Me"] },
      {},
      parseAuthenticationConfigMap(configMapData()),
    );
    assert.deepEqual(c.requestHeader?.usernameHeaders, ["X-Remote-User"]);
  });

  test("no CA anywhere turns the authenticators off", () => {
    const c = resolveAuthenticationConfig({}, {}, undefined);
    assert.equal(c.clientCa.length, 0);
    assert.equal(c.requestHeader, undefined);
    assert.deepEqual(c.sources, { clientCa: "none", requestHeader: "none" });
  });
});

describe("DynamicAuthenticationConfig", () => {
  test("reads the ConfigMap at start", async () => {
    const client = fakeClient(configMapData);
    const dyn = await DynamicAuthenticationConfig.start({
      options: {},
      client,
      refreshIntervalMs: 0,
    });
    assert.equal(client.calls, 1);
    assert.deepEqual(subjects(dyn.current()).requestHeaderCa, ["CN=front-proxy-ca"]);
    dyn.stop();
  });

  test("a missing ConfigMap is an empty one", async () => {
    const client = fakeClient(() => new KubeApiError(404, "{}", "GET"));
    const dyn = await DynamicAuthenticationConfig.start({
      options: {},
      client,
      refreshIntervalMs: 0,
    });
    assert.equal(dyn.current().requestHeader, undefined);
    dyn.stop();
  });

  test("a failed lookup fails start unless tolerated", async () => {
    const client = fakeClient(() => new KubeApiError(403, '{"message":"forbidden"}', "GET"));
    await assert.rejects(
      DynamicAuthenticationConfig.start({ options: {}, client, refreshIntervalMs: 0 }),
      /unable to load configmap based request-header-client-ca-file.*extension-apiserver-authentication-reader/,
    );
    const dyn = await DynamicAuthenticationConfig.start({
      options: { tolerateLookupFailure: true, clientCaFile: "/ca.crt" },
      client,
      refreshIntervalMs: 0,
      readTextFile: () => Promise.resolve(otherCa),
    });
    assert.deepEqual(subjects(dyn.current()), {
      clientCa: ["CN=other-ca"],
      requestHeaderCa: undefined,
    });
    dyn.stop();
  });

  test("--authentication-skip-lookup never asks the API server", async () => {
    const client = fakeClient(configMapData);
    const dyn = await DynamicAuthenticationConfig.start({
      options: { skipLookup: true },
      client,
      refreshIntervalMs: 0,
    });
    await dyn.refresh();
    assert.equal(client.calls, 0);
    assert.equal(dyn.current().requestHeader, undefined);
    dyn.stop();
  });

  test("both CA flags given: nothing to look up", async () => {
    const client = fakeClient(configMapData);
    const dyn = await DynamicAuthenticationConfig.start({
      options: { clientCaFile: "/a", requestheaderClientCaFile: "/b" },
      client,
      refreshIntervalMs: 0,
      readTextFile: (p) => Promise.resolve(p === "/a" ? clientCa : frontProxyCa),
    });
    assert.equal(client.calls, 0);
    assert.deepEqual(dyn.current().sources, { clientCa: "flag", requestHeader: "flag" });
    dyn.stop();
  });

  test("refresh picks up changes, tells listeners, and keeps the last config on errors", async () => {
    let data: Record<string, string> | Error = configMapData();
    const client = fakeClient(() => data);
    const dyn = await DynamicAuthenticationConfig.start({
      options: {},
      client,
      refreshIntervalMs: 0,
    });
    const seen: AuthenticationConfig[] = [];
    dyn.onChange((c) => seen.push(c));

    await dyn.refresh();
    assert.equal(seen.length, 0, "no change, no call");

    data = { ...configMapData(), "requestheader-client-ca-file": frontProxyCa + otherCa };
    await dyn.refresh();
    assert.equal(seen.length, 1);
    assert.deepEqual(subjects(dyn.current()).requestHeaderCa, ["CN=front-proxy-ca", "CN=other-ca"]);

    data = new Error("connection refused");
    await dyn.refresh();
    assert.equal(seen.length, 1);
    assert.equal(dyn.current().requestHeader?.caBundle.length, 2);

    data = { ...configMapData(), "requestheader-username-headers": "not json" };
    await dyn.refresh();
    assert.equal(dyn.current().requestHeader?.caBundle.length, 2, "a bad ConfigMap is ignored");
    dyn.stop();
  });

  test("re-reads on its interval", async () => {
    mock.timers.enable({ apis: ["setInterval"] });
    try {
      const client = fakeClient(configMapData);
      const dyn = await DynamicAuthenticationConfig.start({ options: {}, client });
      assert.equal(client.calls, 1);
      mock.timers.tick(29_999);
      assert.equal(client.calls, 1);
      mock.timers.tick(1);
      await tick();
      assert.equal(client.calls, 2);
      mock.timers.tick(30_000);
      await tick();
      assert.equal(client.calls, 3);
      dyn.stop();
      mock.timers.tick(60_000);
      assert.equal(client.calls, 3);
    } finally {
      mock.timers.reset();
    }
  });
});
