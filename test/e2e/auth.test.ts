import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DynamicAuthenticationConfig } from "../../src/auth/authentication-config.ts";
import { DelegatingAuthenticator } from "../../src/auth/authenticator.ts";
import { DelegatingAuthorizer } from "../../src/auth/authorizer.ts";
import { DelegatedAuth } from "../../src/auth/delegated-auth.ts";
import { parseRequestTarget } from "../../src/apimachinery/request-target.ts";
import { requestAttributes } from "../../src/auth/request-attributes.ts";
import { TokenReviewAuthenticator } from "../../src/auth/token-review-authenticator.ts";
import type { AuthHeaders, AuthRequest, UserInfo } from "../../src/auth/types.ts";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { createCa, issue, loadCa } from "../../src/pki/pki.ts";
import { freshNamespace, kubectl, kubectlJson, testCluster, waitFor } from "../support/cluster.ts";
import { applyObjects } from "../support/objects.ts";

const T = { timeout: 60_000 };
const NO_RETRY = { initialMs: 1, factor: 1, jitter: 0, steps: 1 };
const cert = (pem: string) => new X509Certificate(pem);

describe("delegated auth against the real kube-apiserver", () => {
  let info: ClusterInfo;
  let ns: string;
  let client: KubeClient;
  let config: DynamicAuthenticationConfig;
  let authn: DelegatingAuthenticator;
  let frontProxyClient: X509Certificate;

  const request = (peerCertificates: X509Certificate[], headers: AuthHeaders): AuthRequest => ({
    headers,
    peerCertificates,
    method: "GET",
    target: parseRequestTarget(`/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/%2A/m`),
  });

  before(async () => {
    info = await testCluster();
    ns = await freshNamespace(info, "auth");
    client = new KubeClient({ kubeconfig: info.kubeconfig });
    config = await DynamicAuthenticationConfig.start({
      options: {},
      client,
      refreshIntervalMs: 0,
    });
    authn = new DelegatingAuthenticator({
      config,
      tokenReview: new TokenReviewAuthenticator({ client, backoff: NO_RETRY }),
    });
    frontProxyClient = cert(readFileSync(info.pki.frontProxyClientCert, "utf8"));
  });

  after(async () => {
    config.stop();
    client.close();
    await kubectl(info, ["delete", "namespace", ns, "--wait=false"]);
  });

  test("reads kube-system/extension-apiserver-authentication", T, async () => {
    const cm = await kubectlJson<{ data: Record<string, string> }>(info, [
      "-n",
      "kube-system",
      "get",
      "configmap",
      "extension-apiserver-authentication",
    ]);
    assert.ok(cm.data["requestheader-client-ca-file"]);
    const c = config.current();
    assert.deepEqual(c.sources, { clientCa: "configmap", requestHeader: "configmap" });
    const fp = (file: string) => cert(readFileSync(file, "utf8")).fingerprint256;
    assert.ok(c.clientCa.some((x) => x.fingerprint256 === fp(info.pki.caCert)));
    const rh = c.requestHeader;
    assert.ok(rh);
    assert.ok(rh.caBundle.some((x) => x.fingerprint256 === fp(info.pki.frontProxyCaCert)));
    assert.deepEqual(rh.allowedNames, ["front-proxy-client"]);
    assert.deepEqual(rh.usernameHeaders, ["X-Remote-User"]);
    assert.deepEqual(rh.groupHeaders, ["X-Remote-Group"]);
    assert.deepEqual(rh.extraHeaderPrefixes, ["X-Remote-Extra-"]);
  });

  test("TokenReview: a service-account token, and an invalid one", T, async () => {
    await kubectl(info, ["-n", ns, "create", "serviceaccount", "sa"]);
    const token = (await kubectl(info, ["-n", ns, "create", "token", "sa"])).trim();
    const r = await authn.authenticate(request([], { authorization: `Bearer ${token}` }));
    assert.equal(r.kind, "user", JSON.stringify(r));
    assert.equal(r.method, "token");
    assert.equal(r.user.name, `system:serviceaccount:${ns}:sa`);
    assert.ok(r.user.uid);
    for (const g of ["system:serviceaccounts", `system:serviceaccounts:${ns}`]) {
      assert.ok(r.user.groups.includes(g), g);
    }
    assert.equal(r.user.groups.filter((g) => g === "system:authenticated").length, 1);

    const bad = await authn.authenticate(request([], { authorization: "Bearer not-a-token" }));
    assert.equal(bad.kind, "unauthenticated");
    assert.match(bad.reason, /^token: /);
  });

  test("requestheader: the real front-proxy-client cert carries X-Remote-User", T, async () => {
    const r = await authn.authenticate(
      request([frontProxyClient], {
        "x-remote-user": ["alice"],
        "x-remote-group": ["team-a", "team-b"],
        "x-remote-extra-reason": ["testing"],
      }),
    );
    assert.deepEqual(r, {
      kind: "user",
      method: "requestheader",
      user: {
        name: "alice",
        groups: ["team-a", "team-b", "system:authenticated"],
        extra: { reason: ["testing"] },
      },
    });
  });

  test("refused: another CA, a CN not allowed, forged headers without a cert", T, async () => {
    const stranger = await createCa("stranger-ca");
    const strangerCert = cert(
      (await issue(stranger, { commonName: "front-proxy-client", usage: "client" })).certPem,
    );
    const r1 = await authn.authenticate(request([strangerCert], { "x-remote-user": "alice" }));
    assert.equal(r1.kind, "unauthenticated");

    const fpCa = await loadCa(
      readFileSync(info.pki.frontProxyCaCert, "utf8"),
      readFileSync(join(dirname(info.pki.frontProxyCaCert), "front-proxy-ca.key"), "utf8"),
    );
    const wrongCn = cert(
      (await issue(fpCa, { commonName: "not-the-proxy", usage: "client" })).certPem,
    );
    const r2 = await authn.authenticate(request([wrongCn], { "x-remote-user": "alice" }));
    assert.equal(r2.kind, "unauthenticated");
    assert.match(r2.reason, /cn=not-the-proxy is not in the allowed list/);

    const r3 = await authn.authenticate(
      request([], { "x-remote-user": "system:admin", "x-remote-group": "system:masters" }),
    );
    assert.equal(r3.kind, "unauthenticated");
  });

  test("x509: client certs from the cluster CA", T, async () => {
    const admin = cert(readFileSync(info.pki.adminCert, "utf8"));
    const r = await authn.authenticate(request([admin], { "x-remote-user": "mallory" }));
    assert.equal(r.kind === "user" && r.method, "x509");
    assert.equal(r.kind === "user" && r.user.name, "kubernetes-admin");
    assert.ok(r.kind === "user" && r.user.groups.includes("system:masters"));

    const clusterCa = await loadCa(
      readFileSync(info.pki.caCert, "utf8"),
      readFileSync(info.pki.caKey, "utf8"),
    );
    const dave = cert(
      (await issue(clusterCa, { commonName: "dave", organizations: ["ops"], usage: "client" }))
        .certPem,
    );
    const d = await authn.authenticate(request([dave], {}));
    assert.deepEqual(d.kind === "user" && d.user, {
      name: "dave",
      groups: ["ops", "system:authenticated"],
      extra: {},
    });
  });

  test("SubjectAccessReview: RBAC allows alice, denies bob", T, async () => {
    const manifest = [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "pod-metric-reader", namespace: ns },
        rules: [{ apiGroups: ["custom.metrics.k8s.io"], resources: ["pods/m"], verbs: ["get"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "alice-reads", namespace: ns },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "Role",
          name: "pod-metric-reader",
        },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }],
      },
    ];
    await applyObjects(info, manifest);
    const attrs = requestAttributes("GET", request([], {}).target);
    const user = (name: string): UserInfo => ({
      name,
      groups: ["system:authenticated"],
      extra: {},
    });
    // Caching off while RBAC's informers catch up with the new binding.
    const uncached = new DelegatingAuthorizer({
      client,
      authorizedTtlMs: 0,
      unauthorizedTtlMs: 0,
      backoff: NO_RETRY,
    });
    const allowed = await waitFor("RBAC to allow alice", async () => {
      const d = await uncached.authorize(user("alice"), attrs);
      return d.allowed ? d : undefined;
    });
    assert.equal(allowed.decidedBy, "review");

    const authz = new DelegatingAuthorizer({ client, backoff: NO_RETRY });
    const denied = await authz.authorize(user("bob"), attrs);
    assert.equal(denied.allowed, false);
    assert.ok(denied.reason.length > 0);
    assert.match(denied.reason, /bob get pods\/m/);
    assert.equal((await authz.authorize(user("bob"), attrs)).decidedBy, "cache");
    // A different subresource is not covered by the Role.
    const other = requestAttributes(
      "GET",
      parseRequestTarget(`/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/%2A/other`),
    );
    assert.equal((await authz.authorize(user("alice"), other)).allowed, false);
  });

  test("authenticateAndAuthorize end to end through the front proxy", T, async () => {
    const auth = await DelegatedAuth.create({
      authenticationClient: client,
      authorizationClient: client,
      configRefreshMs: 0,
      backoff: NO_RETRY,
    });
    try {
      const ok = await waitFor("alice to be allowed", async () => {
        const r = await auth.authenticateAndAuthorize({
          ...request([frontProxyClient], { "x-remote-user": "alice" }),
        });
        return r.ok ? r : undefined;
      });
      assert.equal(ok.user.name, "alice");

      const bob = await auth.authenticateAndAuthorize({
        ...request([frontProxyClient], { "x-remote-user": "bob" }),
      });
      assert.equal(!bob.ok && bob.status, 403);
      assert.equal(
        !bob.ok && bob.body.message,
        `pods.custom.metrics.k8s.io "*" is forbidden: User "bob" cannot get resource "pods/m" in API group "custom.metrics.k8s.io" in the namespace "${ns}"`,
      );

      const anon = await auth.authenticateAndAuthorize(request([], {}));
      assert.equal(!anon.ok && anon.status, 401);

      const metrics = await auth.authenticateAndAuthorize({
        ...request([frontProxyClient], { "x-remote-user": "bob" }),
        target: parseRequestTarget("/metrics"),
      });
      assert.equal(
        !metrics.ok && metrics.body.message,
        'forbidden: User "bob" cannot get path "/metrics"',
      );
    } finally {
      auth.close();
    }
  });
});
