/**
 * @module kube/lister.test
 * Object-name lists over a fake API client: the path asked for, and what a 403 (the adapter's RBAC
 * lacks the resource) becomes: a ListForbiddenError naming the rule to grant.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KubeApiError, type KubeJson } from "./client.ts";
import { ListForbiddenError, forbiddenUser, listObjectNames } from "./lister.ts";
import type { ResourceInfo } from "./rest-mapper.ts";

const SA = "system:serviceaccount:custom-metrics:k8s-custom-metrics";

const DEPLOYMENTS: ResourceInfo = {
  group: "apps",
  version: "v1",
  resource: "deployments",
  singular: "deployment",
  kind: "Deployment",
  namespaced: true,
  verbs: ["list"],
};
const NODES: ResourceInfo = {
  group: "",
  version: "v1",
  resource: "nodes",
  singular: "node",
  kind: "Node",
  namespaced: false,
  verbs: ["list"],
};
const PODS: ResourceInfo = { ...NODES, resource: "pods", singular: "pod", kind: "Pod" };

/** kube-apiserver's Forbidden Status for an RBAC denial (responsewriters.forbiddenMessage). */
function forbiddenBody(user: string, gr: string, resource: string, group: string, ns?: string) {
  const where =
    ns === undefined ? "at the cluster scope" : `in the namespace ${JSON.stringify(ns)}`;
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `${gr} is forbidden: User ${JSON.stringify(user)} cannot list resource ${JSON.stringify(resource)} in API group ${JSON.stringify(group)} ${where}`,
    reason: "Forbidden",
    details: { group, kind: resource },
    code: 403,
  });
}

/** A client whose every GET fails with `error` (or answers `items`), recording the paths. */
function fakeClient(answer: Error | { items: { metadata: { name: string } }[] | null }) {
  const paths: string[] = [];
  const client: KubeJson = {
    json(_method, path) {
      paths.push(path);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
  return { client, paths };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("KubeApiError", () => {
  test("keeps the Status' reason and message", () => {
    const e = new KubeApiError(
      403,
      forbiddenBody(SA, "secrets", "secrets", "", "kube-system"),
      "GET /api/v1/namespaces/kube-system/secrets",
    );
    assert.equal(e.status, 403);
    assert.equal(e.reason, "Forbidden");
    assert.match(e.apiMessage ?? "", /^secrets is forbidden: User "system:serviceaccount:/);
    assert.match(e.message, /^GET \/api\/v1\/namespaces\/kube-system\/secrets: HTTP 403: secrets/);
  });

  test("a body that is not a Status: no reason, the text in the message", () => {
    const e = new KubeApiError(502, "bad gateway", "GET /api/v1/pods");
    assert.equal(e.reason, undefined);
    assert.equal(e.apiMessage, undefined);
    assert.equal(e.message, "GET /api/v1/pods: HTTP 502: bad gateway");
    assert.equal(new KubeApiError(500, "null", "GET /x").apiMessage, undefined);
  });
});

describe("forbiddenUser", () => {
  test("reads the user of an RBAC denial, Go-quoted", () => {
    assert.equal(
      forbiddenUser(
        (JSON.parse(forbiddenBody(SA, "pods", "pods", "")) as { message: string }).message,
      ),
      SA,
    );
    assert.equal(
      forbiddenUser('x is forbidden: User "a \\"quoted\\" name" cannot list resource "x"'),
      'a "quoted" name',
    );
    assert.equal(forbiddenUser("forbidden: no RBAC policy matched"), undefined);
    assert.equal(forbiddenUser(undefined), undefined);
  });
});

describe("listObjectNames", () => {
  test("lists metadata only, from the watch cache, in the namespace", async () => {
    const { client, paths } = fakeClient({ items: [{ metadata: { name: "web" } }] });
    assert.deepEqual(await listObjectNames(client, DEPLOYMENTS, "demo", "app=web"), ["web"]);
    assert.deepEqual(paths, [
      "/apis/apps/v1/namespaces/demo/deployments?labelSelector=app%3Dweb&resourceVersion=0",
    ]);
  });

  test("403: a ListForbiddenError naming the resource, namespace, user and rule", async () => {
    const { client } = fakeClient(
      new KubeApiError(
        403,
        forbiddenBody(SA, "deployments.apps", "deployments", "apps", "demo"),
        "GET /apis/apps/v1/namespaces/demo/deployments",
      ),
    );
    const e = await rejection(listObjectNames(client, DEPLOYMENTS, "demo", ""));
    assert.ok(e instanceof ListForbiddenError, String(e));
    assert.equal(e.group, "apps");
    assert.equal(e.resource, "deployments");
    assert.equal(e.namespace, "demo");
    assert.equal(e.user, SA);
    assert.deepEqual(e.verbs, ["list"]);
    assert.equal(e.rule, '{apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"]}');
    assert.equal(
      e.message,
      `the adapter's ServiceAccount "${SA}" may not list "deployments.apps" in namespace "demo"; grant it the ClusterRole rule {apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"]}`,
    );
    assert.equal(
      e.publicReason,
      `the adapter's ServiceAccount may not list "deployments.apps"; grant it the ClusterRole rule {apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"]}`,
    );
    assert.ok(e.cause instanceof KubeApiError);
  });

  test("403 on a cluster-scoped core resource: the core group, no namespace", async () => {
    const { client, paths } = fakeClient(
      new KubeApiError(403, forbiddenBody(SA, "nodes", "nodes", ""), "GET /api/v1/nodes"),
    );
    // A namespace passed for a cluster-scoped resource is not part of the list (nor the error).
    const e = await rejection(listObjectNames(client, NODES, "demo", ""));
    assert.ok(e instanceof ListForbiddenError);
    assert.deepEqual(paths, ["/api/v1/nodes?resourceVersion=0"]);
    assert.equal(e.namespace, "");
    assert.equal(
      e.publicReason,
      `the adapter's ServiceAccount may not list "nodes"; grant it the ClusterRole rule {apiGroups: [""], resources: ["nodes"], verbs: ["list"]}`,
    );
  });

  test("pods: the rule also has get and watch (the pod cache watches them)", async () => {
    const { client } = fakeClient(
      new KubeApiError(403, forbiddenBody(SA, "pods", "pods", ""), "GET /api/v1/pods"),
    );
    const e = await rejection(listObjectNames(client, PODS, "", ""));
    assert.ok(e instanceof ListForbiddenError);
    assert.equal(e.rule, '{apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"]}');
  });

  test("403 without a user in the body, or for a kubeconfig user", async () => {
    const plain = fakeClient(new KubeApiError(403, "forbidden", "GET /apis/apps/v1/deployments"));
    const e1 = await rejection(listObjectNames(plain.client, DEPLOYMENTS, "demo", ""));
    assert.ok(e1 instanceof ListForbiddenError);
    assert.equal(e1.user, undefined);
    assert.match(e1.message, /^the adapter's ServiceAccount may not list "deployments\.apps"/);

    const user = fakeClient(
      new KubeApiError(
        403,
        forbiddenBody("jane", "deployments.apps", "deployments", "apps", "demo"),
        "GET /apis/apps/v1/namespaces/demo/deployments",
      ),
    );
    const e2 = await rejection(listObjectNames(user.client, DEPLOYMENTS, "demo", ""));
    assert.ok(e2 instanceof ListForbiddenError);
    assert.match(e2.message, /^the adapter's user "jane" may not list/);
    assert.match(e2.publicReason, /^the adapter's user may not list "deployments\.apps"; /);
  });

  test("any other failure is passed on as it is", async () => {
    const err = new KubeApiError(500, "{}", "GET /apis/apps/v1/deployments");
    const { client } = fakeClient(err);
    assert.equal(await rejection(listObjectNames(client, DEPLOYMENTS, "demo", "")), err);
    const refused = new Error("connect ECONNREFUSED 10.0.0.1:443");
    assert.equal(
      await rejection(listObjectNames(fakeClient(refused).client, DEPLOYMENTS, "demo", "")),
      refused,
    );
  });
});
