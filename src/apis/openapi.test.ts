import { test } from "node:test";
import assert from "node:assert/strict";
import { knownDocs, openApiV2, openApiV3Document, openApiV3Index } from "./openapi.ts";

function refs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refs(x, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string") out.push(x);
      else refs(x, out);
    }
  }
  return out;
}

test("the v2 document defines every type it references, and every served path", () => {
  const docs = [...knownDocs().values()];
  const doc = openApiV2(docs, "v0.1.0") as {
    swagger: string;
    paths: Record<string, unknown>;
    definitions: Record<string, unknown>;
  };
  assert.equal(doc.swagger, "2.0");
  for (const r of refs(doc)) {
    assert.ok(r.startsWith("#/definitions/"), r);
    assert.ok(r.slice("#/definitions/".length) in doc.definitions, r);
  }
  assert.ok(
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}" in
      doc.paths,
  );
  assert.ok("/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}" in doc.paths);
  const list = doc.definitions[
    "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList"
  ] as Record<string, unknown>;
  assert.deepEqual(list["x-kubernetes-group-version-kind"], [
    { group: "custom.metrics.k8s.io", version: "v1beta2", kind: "MetricValueList" },
  ]);
});

test("the v3 index points at one self-contained document per group-version", () => {
  const docs = [...knownDocs().values()];
  const index = openApiV3Index(docs, "v0.1.0") as {
    paths: Record<string, { serverRelativeURL: string }>;
  };
  assert.deepEqual(Object.keys(index.paths).sort(), [
    "apis/custom.metrics.k8s.io/v1beta1",
    "apis/custom.metrics.k8s.io/v1beta2",
    "apis/external.metrics.k8s.io/v1beta1",
  ]);
  for (const d of docs) {
    const doc = openApiV3Document(d, "v0.1.0") as {
      openapi: string;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, "3.0.0");
    for (const r of refs(doc))
      assert.ok(r.slice("#/components/schemas/".length) in doc.components.schemas, r);
    assert.match(
      index.paths[`apis/${d.group}/${d.version}`]?.serverRelativeURL ?? "",
      /\?hash=[0-9A-F]{128}$/,
    );
  }
});
