import { before, describe, test } from "node:test";
import { parseRequestTarget } from "../apimachinery/request-target.ts";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createCa, issue } from "../pki/pki.ts";
import { DynamicAuthenticationConfig, type AuthenticationConfig } from "./authentication-config.ts";
import { DelegatingAuthenticator, withAuthenticatedGroup } from "./authenticator.ts";
import type { AuthenticatorAttempt, AuthHeaders, AuthRequest } from "./types.ts";

const req = (peerCertificates: X509Certificate[], headers: AuthHeaders = {}): AuthRequest => ({
  headers,
  peerCertificates,
  method: "GET",
  target: parseRequestTarget("/apis/custom.metrics.k8s.io/v1beta2"),
});

/** A token authenticator double: "Bearer good" is carol. */
const tokens = {
  calls: 0,
  authenticate(headers: AuthHeaders): Promise<AuthenticatorAttempt> {
    tokens.calls++;
    const h = headers["authorization"];
    if (h === undefined) return Promise.resolve({ kind: "skip" });
    return Promise.resolve(
      h === "Bearer good"
        ? { kind: "user", user: { name: "carol", groups: ["devs"], extra: {} } }
        : { kind: "error", reason: "token: invalid bearer token" },
    );
  },
};

describe("DelegatingAuthenticator", () => {
  let cfg: AuthenticationConfig;
  let proxyCert: X509Certificate;
  let adminCert: X509Certificate;
  let strangerCert: X509Certificate;
  let authn: DelegatingAuthenticator;

  before(async () => {
    const clusterCa = await createCa("cluster-ca");
    const frontProxyCa = await createCa("front-proxy-ca");
    const otherCa = await createCa("other-ca");
    cfg = {
      clientCa: [new X509Certificate(clusterCa.certPem)],
      requestHeader: {
        caBundle: [new X509Certificate(frontProxyCa.certPem)],
        allowedNames: ["front-proxy-client"],
        usernameHeaders: ["X-Remote-User"],
        uidHeaders: [],
        groupHeaders: ["X-Remote-Group"],
        extraHeaderPrefixes: ["X-Remote-Extra-"],
      },
      sources: { clientCa: "configmap", requestHeader: "configmap" },
    };
    const cert = async (ca: typeof clusterCa, cn: string, orgs: string[] = []) =>
      new X509Certificate(
        (await issue(ca, { commonName: cn, organizations: orgs, usage: "client" })).certPem,
      );
    proxyCert = await cert(frontProxyCa, "front-proxy-client");
    adminCert = await cert(clusterCa, "kubernetes-admin", ["system:masters"]);
    strangerCert = await cert(otherCa, "front-proxy-client");
    authn = new DelegatingAuthenticator({
      config: DynamicAuthenticationConfig.fixed(cfg),
      tokenReview: tokens,
    });
  });

  test("front proxy: the user from the headers, plus system:authenticated", async () => {
    const r = await authn.authenticate(
      req([proxyCert], { "x-remote-user": "alice", "x-remote-group": ["g1", "g2"] }),
    );
    assert.deepEqual(r, {
      kind: "user",
      method: "requestheader",
      user: { name: "alice", groups: ["g1", "g2", "system:authenticated"], extra: {} },
    });
  });

  test("forged identity headers without a front-proxy cert never authenticate", async () => {
    const forged = { "x-remote-user": "admin", "x-remote-group": "system:masters" };
    const none = await authn.authenticate(req([], forged));
    assert.equal(none.kind, "unauthenticated");
    const stranger = await authn.authenticate(req([strangerCert], forged));
    assert.equal(stranger.kind, "unauthenticated");
    assert.match(stranger.reason, /unknown authority/);
  });

  test("a cluster client cert with forged headers is the cert's user, not the header's", async () => {
    const r = await authn.authenticate(req([adminCert], { "x-remote-user": "mallory" }));
    assert.deepEqual(r, {
      kind: "user",
      method: "x509",
      user: {
        name: "kubernetes-admin",
        groups: ["system:masters", "system:authenticated"],
        extra: {},
      },
    });
  });

  test("a front-proxy cert without X-Remote-User falls through to the token", async () => {
    const r = await authn.authenticate(req([proxyCert], { authorization: "Bearer good" }));
    assert.equal(r.kind === "user" && r.method, "token");
    assert.deepEqual(r.kind === "user" && r.user.groups, ["devs", "system:authenticated"]);
  });

  test("front proxy wins over a token", async () => {
    const r = await authn.authenticate(
      req([proxyCert], { "x-remote-user": "alice", authorization: "Bearer good" }),
    );
    assert.equal(r.kind === "user" && r.user.name, "alice");
  });

  test("a bad token is unauthenticated with the reason", async () => {
    const r = await authn.authenticate(req([], { authorization: "Bearer nope" }));
    assert.deepEqual(r, { kind: "unauthenticated", reason: "token: invalid bearer token" });
  });

  test("no credentials: unauthenticated, no anonymous by default", async () => {
    const r = await authn.authenticate(req([]));
    assert.equal(r.kind, "unauthenticated");
  });

  test("anonymous when enabled, but never after a failed credential", async () => {
    const anon = new DelegatingAuthenticator({
      config: DynamicAuthenticationConfig.fixed(cfg),
      tokenReview: tokens,
      anonymous: true,
    });
    assert.deepEqual(await anon.authenticate(req([])), {
      kind: "user",
      method: "anonymous",
      user: { name: "system:anonymous", groups: ["system:unauthenticated"], extra: {} },
    });
    assert.equal((await anon.authenticate(req([strangerCert]))).kind, "unauthenticated");
  });

  test("withAuthenticatedGroup leaves all-groups alone", () => {
    const u = (groups: string[]) => ({ name: "u", groups, extra: {} });
    assert.deepEqual(withAuthenticatedGroup(u(["system:authenticated"])).groups, [
      "system:authenticated",
    ]);
    assert.deepEqual(withAuthenticatedGroup(u(["system:unauthenticated"])).groups, [
      "system:unauthenticated",
    ]);
  });

  test("follows config changes", async () => {
    const authnNoProxy = new DelegatingAuthenticator({
      config: { current: () => ({ ...cfg, requestHeader: undefined }) },
    });
    const r = await authnNoProxy.authenticate(req([proxyCert], { "x-remote-user": "alice" }));
    assert.equal(r.kind, "unauthenticated");
  });
});
