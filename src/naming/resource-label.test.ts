import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createResourceConverter,
  groupResourceForLabel,
  labelExtractor,
  type CompileTemplate,
  type GroupResource,
  type ResourceMapper,
} from "./resource-label.ts";
import { NamingError } from "./errors.ts";

// Enough of Go text/template for `<<.Group>>` / `<<.Resource>>`.
const compileTemplate: CompileTemplate = (text) => {
  if (/<<(?![^>]*>>)/.test(text)) throw new Error("unclosed action");
  return (data) =>
    text.replace(/<<\s*\.(Group|Resource)\s*>>/g, (_m, k: "Group" | "Resource") => data[k]);
};

// The types upstream's restMapper() test helper registers (core v1 and extensions v1beta1).
const KNOWN: readonly (readonly [string, string, string])[] = [
  ["", "pods", "pod"],
  ["", "services", "service"],
  ["", "nodes", "node"],
  ["", "persistentvolumes", "persistentvolume"],
  ["", "namespaces", "namespace"],
  ["extensions", "ingresses", "ingress"],
  ["extensions", "deployments", "deployment"],
];

const mapper: ResourceMapper = {
  normalize(gr) {
    const r = gr.resource.toLowerCase();
    const hit = KNOWN.find(
      ([g, plural, singular]) =>
        (gr.group === "" || gr.group === g) && (r === plural || r === singular),
    );
    if (hit === undefined) throw new Error(`no matches for ${gr.group}/${gr.resource}`);
    return { group: hit[0], resource: hit[1] };
  },
  singularize(resource) {
    const hit = KNOWN.find(([, plural]) => plural === resource);
    if (hit === undefined) throw new Error(`no singular of ${resource}`);
    return hit[2];
  },
};

const deps = { compileTemplate, mapper };
const sorted = (xs: GroupResource[]) =>
  [...xs].sort((a, b) => `${a.group}/${a.resource}`.localeCompare(`${b.group}/${b.resource}`));

// Upstream pkg/custom-provider/resource_converter_test.go.
test("creates a label from a resource with the template (group sanitized, singular)", () => {
  const conv = createResourceConverter({ template: "kube_<<.Group>>_<<.Resource>>" }, deps);
  assert.equal(
    conv.labelForResource({ group: "extensions", resource: "deployments" }),
    "kube_extensions_deployment",
  );
  const apps = createResourceConverter(
    { template: "kube_<<.Group>>_<<.Resource>>" },
    {
      compileTemplate,
      mapper: { ...mapper, singularize: () => "deployment" },
    },
  );
  assert.equal(
    apps.labelForResource({ group: "apps.k8s-io", resource: "deployments" }),
    "kube_apps_k8s_io_deployment",
  );
});

test("detects resources from a label via the template", () => {
  const conv = createResourceConverter({ template: "kube_<<.Group>>_<<.Resource>>" }, deps);
  assert.deepEqual(conv.resourcesForLabels(["kube_extensions_deployment"]), {
    resources: [{ group: "extensions", resource: "deployments" }],
    namespaced: false,
  });
});

test("detects namespaced from overrides", () => {
  const conv = createResourceConverter(
    {
      template: "kube_<<.Group>>_<<.Resource>>",
      overrides: { has_namespace: { group: "", resource: "Namespaces" } },
    },
    deps,
  );
  const { resources, namespaced } = conv.resourcesForLabels([
    "kube_extensions_deployment",
    "has_namespace",
  ]);
  assert.deepEqual(sorted(resources), [
    { group: "", resource: "namespaces" },
    { group: "extensions", resource: "deployments" },
  ]);
  assert.equal(namespaced, true);
});

test("detects non-namespace resources from overrides", () => {
  const conv = createResourceConverter(
    {
      template: "kube_<<.Group>>_<<.Resource>>",
      overrides: { a_special_label: { resource: "pod" } },
    },
    deps,
  );
  const { resources, namespaced } = conv.resourcesForLabels([
    "kube_extensions_deployment",
    "a_special_label",
  ]);
  assert.deepEqual(sorted(resources), [
    { group: "", resource: "pods" },
    { group: "extensions", resource: "deployments" },
  ]);
  assert.equal(namespaced, false);
});

test("labels the mapper does not know are skipped silently; <<.Resource>> tries every label", () => {
  const conv = createResourceConverter({ template: "<<.Resource>>" }, deps);
  assert.deepEqual(conv.resourcesForLabels(["pod", "job", "__name__", "service"]).resources, [
    { group: "", resource: "pods" },
    { group: "", resource: "services" },
  ]);
});

test("resource → label uses the override's reverse mapping first", () => {
  const conv = createResourceConverter(
    { template: "kube_<<.Resource>>", overrides: { instance: { resource: "node" } } },
    deps,
  );
  assert.equal(conv.labelForResource({ group: "", resource: "nodes" }), "instance");
  assert.equal(conv.labelForResource({ group: "", resource: "pods" }), "kube_pod");
});

test("without a template, an unmapped resource has no label", () => {
  const conv = createResourceConverter({ overrides: { pod: { resource: "pod" } } }, deps);
  assert.throws(
    () => conv.labelForResource({ group: "", resource: "services" }),
    (e: unknown) =>
      e instanceof NamingError &&
      e.message ===
        "unable to convert resource services into label: no generic resource label form specified for this metric",
  );
});

test("an override naming an unknown resource stays pending until the mapper knows it", () => {
  const known = new Set(["pods"]);
  const mapper: ResourceMapper = {
    normalize: (gr) => {
      const plural = gr.resource.endsWith("s") ? gr.resource : `${gr.resource}s`;
      if (!known.has(plural))
        throw new Error(`the server doesn't have a resource type "${gr.resource}"`);
      return { group: gr.group, resource: plural };
    },
    singularize: (r) => r.replace(/s$/, ""),
  };
  const conv = createResourceConverter(
    {
      template: "<<.Resource>>",
      overrides: { w: { group: "example.com", resource: "widget" }, p: { resource: "pod" } },
    },
    { ...deps, mapper },
  );
  assert.deepEqual(conv.unresolvedOverrides(), [
    {
      label: "w",
      resource: "widget.example.com",
      reason:
        'unable to normalize group-resource widget.example.com: the server doesn\'t have a resource type "widget"',
    },
  ]);
  // Until then its label maps to nothing (not to a template guess); the others work.
  assert.deepEqual(conv.resourcesForLabels(["w", "p"]).resources, [
    { group: "", resource: "pods" },
  ]);
  known.add("widgets");
  assert.deepEqual(conv.resourcesForLabels(["w"]).resources, [
    { group: "example.com", resource: "widgets" },
  ]);
  assert.deepEqual(conv.unresolvedOverrides(), []);
  assert.equal(conv.labelForResource({ group: "example.com", resource: "widgets" }), "w");
});

test("the template regex is anchored, lazy, and needs .Resource", () => {
  const ex = labelExtractor(compileTemplate("kube_<<.Group>>_<<.Resource>>"));
  assert.equal(ex.regex.source, "^kube_(?P<group>.+?)_(?P<resource>.+?)$");
  assert.deepEqual(groupResourceForLabel(ex, "kube_apps_deployment"), {
    group: "apps",
    resource: "deployment",
  });
  assert.equal(groupResourceForLabel(ex, "xkube_apps_deployment"), undefined);
  assert.deepEqual(groupResourceForLabel(labelExtractor(compileTemplate("<<.Resource>>")), "pod"), {
    group: "",
    resource: "pod",
  });
  assert.throws(() => labelExtractor(compileTemplate("kube_<<.Group>>")), /must include at least/);
  assert.throws(() => labelExtractor(compileTemplate("")), /empty template/);
});
