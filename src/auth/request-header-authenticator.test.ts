import { before, describe, test } from "node:test";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createCa, issue, type CertificateAuthority } from "../pki/pki.ts";
import { REQUESTHEADER_FLAG_DEFAULTS, type RequestHeaderConfig } from "./authentication-config.ts";
import { headersFromRaw } from "./headers.ts";
import { authenticateRequestHeader, userFromHeaders } from "./request-header-authenticator.ts";
import type { AuthHeaders, AuthRequest } from "./types.ts";

const HEADERS = {
  usernameHeaders: ["X-Remote-User"],
  uidHeaders: ["X-Remote-Uid"],
  groupHeaders: ["X-Remote-Group"],
  extraHeaderPrefixes: ["X-Remote-Extra-"],
};

describe("userFromHeaders (requestheader.go)", () => {
  test("extra keys named like Object.prototype members are keys like any other", () => {
    const headers = headersFromRaw([
      "X-Remote-User",
      "alice",
      "X-Remote-Extra-Constructor",
      "a",
      "X-Remote-Extra-__proto__",
      "b",
      "X-Remote-Extra-__proto__",
      "c",
    ]);
    const user = userFromHeaders(headers, HEADERS);
    assert.deepEqual(Object.entries(user?.extra ?? {}), [
      ["constructor", ["a"]],
      ["__proto__", ["b", "c"]],
    ]);
    assert.equal(Object.getPrototypeOf(user?.extra), Object.prototype);
    // As the SubjectAccessReview's spec.extra sends it.
    assert.equal(JSON.stringify(user?.extra), '{"constructor":["a"],"__proto__":["b","c"]}');
  });

  test("user, uid, groups from repeated headers, extra keys lower-cased and unescaped", () => {
    const headers = headersFromRaw([
      "X-Remote-User",
      "alice",
      "X-Remote-Uid",
      "u-1",
      "X-Remote-Group",
      "team-a",
      "x-remote-group",
      "team-b",
      "X-Remote-Group",
      "",
      "X-Remote-Extra-Scopes",
      "view",
      "X-Remote-Extra-Scopes",
      "edit",
      "X-Remote-Extra-Example.com%2Fkey",
      "v",
      "X-Remote-Extra-bad%zz",
      "kept",
    ]);
    assert.deepEqual(userFromHeaders(headers, HEADERS), {
      name: "alice",
      uid: "u-1",
      groups: ["team-a", "team-b"],
      extra: { scopes: ["view", "edit"], "example.com/key": ["v"], "bad%zz": ["kept"] },
    });
  });

  test("the first non-empty username header wins; its first value", () => {
    const h: AuthHeaders = { "x-remote-user": "", "x-other-user": ["bob", "carol"] };
    assert.equal(
      userFromHeaders(h, { ...HEADERS, usernameHeaders: ["X-Remote-User", "X-Other-User"] })?.name,
      "bob",
    );
  });

  test("several group headers are all read, in order", () => {
    const h: AuthHeaders = { "x-g2": "b", "x-g1": ["a1", "a2"] };
    assert.deepEqual(
      userFromHeaders(
        { ...h, "x-remote-user": "u" },
        { ...HEADERS, groupHeaders: ["X-G1", "X-G2"] },
      )?.groups,
      ["a1", "a2", "b"],
    );
  });

  test("several extra prefixes", () => {
    const h: AuthHeaders = { "x-remote-user": "u", "x-a-k": "1", "x-b-k": "2" };
    assert.deepEqual(
      userFromHeaders(h, { ...HEADERS, extraHeaderPrefixes: ["X-A-", "X-B-"] })?.extra,
      { k: ["1", "2"] },
    );
  });

  test("no username, no user; no uid header, no uid", () => {
    assert.equal(userFromHeaders({ "x-remote-group": "g" }, HEADERS), undefined);
    const u = userFromHeaders({ "x-remote-user": "u" }, { ...HEADERS, uidHeaders: [] });
    assert.deepEqual(u, { name: "u", groups: [], extra: {} });
  });
});

describe("authenticateRequestHeader", () => {
  let frontProxyCa: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let cfg: RequestHeaderConfig;
  let proxyCert: X509Certificate;
  const req = (certs: X509Certificate[], headers: AuthHeaders): AuthRequest => ({
    headers,
    peerCertificates: certs,
    method: "GET",
    target: parseRequestTarget("/apis"),
  });

  before(async () => {
    frontProxyCa = await createCa("front-proxy-ca");
    otherCa = await createCa("other-ca");
    cfg = {
      ...HEADERS,
      caBundle: [new X509Certificate(frontProxyCa.certPem)],
      allowedNames: ["front-proxy-client"],
    };
    proxyCert = new X509Certificate(
      (await issue(frontProxyCa, { commonName: "front-proxy-client", usage: "client" })).certPem,
    );
  });

  test("a valid front-proxy cert makes the headers count", () => {
    const r = authenticateRequestHeader(req([proxyCert], { "x-remote-user": "alice" }), cfg);
    assert.deepEqual(r, { kind: "user", user: { name: "alice", groups: [], extra: {} } });
  });

  test("no cert or no config: no opinion, headers ignored", () => {
    assert.deepEqual(authenticateRequestHeader(req([], { "x-remote-user": "root" }), cfg), {
      kind: "skip",
    });
    assert.deepEqual(
      authenticateRequestHeader(req([proxyCert], { "x-remote-user": "root" }), undefined),
      { kind: "skip" },
    );
  });

  test("a cert from another CA is an error", async () => {
    const c = new X509Certificate(
      (await issue(otherCa, { commonName: "front-proxy-client", usage: "client" })).certPem,
    );
    const r = authenticateRequestHeader(req([c], { "x-remote-user": "alice" }), cfg);
    assert.equal(r.kind, "error");
    assert.match(r.reason, /unknown authority/);
  });

  test("a CN outside allowed-names is an error; an empty list allows any CN", async () => {
    const c = new X509Certificate(
      (await issue(frontProxyCa, { commonName: "intruder", usage: "client" })).certPem,
    );
    const r = authenticateRequestHeader(req([c], { "x-remote-user": "alice" }), cfg);
    assert.deepEqual(r, {
      kind: "error",
      reason: "requestheader: x509: subject with cn=intruder is not in the allowed list",
    });
    const open = authenticateRequestHeader(req([c], { "x-remote-user": "alice" }), {
      ...cfg,
      allowedNames: [],
    });
    assert.equal(open.kind, "user");
  });

  test("a server-only cert (no clientAuth EKU) is refused", async () => {
    const c = new X509Certificate(
      (await issue(frontProxyCa, { commonName: "front-proxy-client", usage: "server" })).certPem,
    );
    const r = authenticateRequestHeader(req([c], { "x-remote-user": "alice" }), cfg);
    assert.match(r.kind === "error" ? r.reason : "", /incompatible key usage/);
  });

  test("a valid cert without a username header: no opinion", () => {
    const r = authenticateRequestHeader(req([proxyCert], { "x-remote-group": "g" }), cfg);
    assert.equal(r.kind, "skip");
  });

  test("flag defaults are lower-case header names; lookups ignore case", () => {
    const r = authenticateRequestHeader(req([proxyCert], { "X-Remote-User": "bob" }), {
      ...REQUESTHEADER_FLAG_DEFAULTS,
      caBundle: cfg.caBundle,
    });
    assert.equal(r.kind === "user" && r.user.name, "bob");
  });
});
