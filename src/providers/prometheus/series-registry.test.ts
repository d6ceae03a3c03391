/**
 * prometheus-adapter's series registry cases (pkg/custom-provider/series_registry_test.go), in our
 * own code: the default rules (rate window 1m, label prefix "kube_") over a fixed set of series,
 * then every metric listed and every query built as upstream builds it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRequirements } from "../../apimachinery/label-selector-parser.ts";
import { defaultConfig } from "../../config/defaults.ts";
import { RestMapper, type ResourceInfo } from "../../kube/rest-mapper.ts";
import { customRegistry, type NamedSeries } from "./discovery.ts";
import { buildCustomQuery } from "./query-builder.ts";
import { compileRule, namingMapper } from "./rules.ts";

const r = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
): ResourceInfo => ({
  group,
  version,
  resource,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  verbs: ["get", "list"],
});

const mapper = RestMapper.fromResources([
  r("", "v1", "pods", "Pod", true),
  r("", "v1", "services", "Service", true),
  r("extensions", "v1beta1", "ingresses", "Ingress", true),
  r("extensions", "v1beta1", "deployments", "Deployment", true),
  r("", "v1", "nodes", "Node", false),
  r("", "v1", "persistentvolumes", "PersistentVolume", false),
  r("", "v1", "namespaces", "Namespace", false),
]);

const rules = (defaultConfig({ rateInterval: "1m", labelPrefix: "kube_" }).rules ?? []).map(
  (rule, i) => compileRule(rule, `rules[${String(i)}]`, namingMapper(mapper)),
);

const s = (name: string, ...labels: string[]): NamedSeries => ({ name, labels });
// One slice per rule, as upstream's test hands them to SetSeries.
const series: NamedSeries[][] = [
  [s("container_some_time_seconds_total", "pod", "namespace", "container")],
  [s("container_some_count_total", "pod", "namespace", "container")],
  [s("container_some_usage", "pod", "namespace", "container")],
  [s("node_gigawatts", "kube_node"), s("service_proxy_packets", "kube_service", "kube_namespace")],
  [
    s("ingress_hits_total", "kube_ingress", "kube_service", "kube_pod", "kube_namespace"),
    s("volume_claims_total", "kube_persistentvolume"),
  ],
  [
    s("work_queue_wait_seconds_total", "kube_deployment", "kube_namespace"),
    s("node_fan_seconds_total", "kube_node"),
  ],
];
const registry = customRegistry(rules, series);

test("lists every metric with its resource and scope", () => {
  const got = registry
    .list()
    .map(
      (i) =>
        `${i.groupResource.group}/${i.groupResource.resource} ${String(i.namespaced)} ${i.metric}`,
    )
    .sort();
  const want = [
    "/pods true some_count",
    "/namespaces false some_count",
    "/pods true some_time",
    "/namespaces false some_time",
    "/pods true some_usage",
    "/namespaces false some_usage",
    "/services true ingress_hits",
    "extensions/ingresses true ingress_hits",
    "/pods true ingress_hits",
    "/namespaces false ingress_hits",
    "/services true service_proxy_packets",
    "/namespaces false service_proxy_packets",
    "extensions/deployments true work_queue_wait",
    "/namespaces false work_queue_wait",
    "/nodes false node_gigawatts",
    "/persistentvolumes false volume_claims",
    "/nodes false node_fan",
  ].sort();
  assert.deepEqual(got, want);
});

const cases: [string, string, string, boolean, string, string, string[], string][] = [
  [
    "container gauge, several names",
    "",
    "pods",
    true,
    "some_usage",
    "somens",
    ["somepod1", "somepod2"],
    'sum(container_some_usage{namespace="somens",pod=~"somepod1|somepod2",container!="POD"}) by (pod)',
  ],
  [
    "container counter",
    "",
    "pods",
    true,
    "some_count",
    "somens",
    ["somepod1", "somepod2"],
    'sum(rate(container_some_count_total{namespace="somens",pod=~"somepod1|somepod2",container!="POD"}[1m])) by (pod)',
  ],
  [
    "container seconds counter",
    "",
    "pods",
    true,
    "some_time",
    "somens",
    ["somepod1", "somepod2"],
    'sum(rate(container_some_time_seconds_total{namespace="somens",pod=~"somepod1|somepod2",container!="POD"}[1m])) by (pod)',
  ],
  [
    "namespaced counter, service",
    "",
    "services",
    true,
    "ingress_hits",
    "somens",
    ["somesvc"],
    'sum(rate(ingress_hits_total{kube_namespace="somens",kube_service="somesvc"}[1m])) by (kube_service)',
  ],
  [
    "namespaced counter, ingress",
    "extensions",
    "ingresses",
    true,
    "ingress_hits",
    "somens",
    ["someingress"],
    'sum(rate(ingress_hits_total{kube_namespace="somens",kube_ingress="someingress"}[1m])) by (kube_ingress)',
  ],
  [
    "namespaced counter, pod",
    "",
    "pods",
    true,
    "ingress_hits",
    "somens",
    ["somepod"],
    'sum(rate(ingress_hits_total{kube_namespace="somens",kube_pod="somepod"}[1m])) by (kube_pod)',
  ],
  [
    "namespaced gauge",
    "",
    "services",
    true,
    "service_proxy_packets",
    "somens",
    ["somesvc"],
    'sum(service_proxy_packets{kube_namespace="somens",kube_service="somesvc"}) by (kube_service)',
  ],
  [
    "namespaced seconds counter",
    "extensions",
    "deployments",
    true,
    "work_queue_wait",
    "somens",
    ["somedep"],
    'sum(rate(work_queue_wait_seconds_total{kube_namespace="somens",kube_deployment="somedep"}[1m])) by (kube_deployment)',
  ],
  [
    "root-scoped gauge",
    "",
    "nodes",
    false,
    "node_gigawatts",
    "",
    ["somenode"],
    'sum(node_gigawatts{kube_node="somenode"}) by (kube_node)',
  ],
  [
    "root-scoped counter",
    "",
    "persistentvolumes",
    false,
    "volume_claims",
    "",
    ["somepv"],
    'sum(rate(volume_claims_total{kube_persistentvolume="somepv"}[1m])) by (kube_persistentvolume)',
  ],
  [
    "root-scoped seconds counter",
    "",
    "nodes",
    false,
    "node_fan",
    "",
    ["somenode"],
    'sum(rate(node_fan_seconds_total{kube_node="somenode"}[1m])) by (kube_node)',
  ],
];

for (const [title, group, resource, namespaced, metric, namespace, names, want] of cases) {
  test(`builds the query for ${title}`, () => {
    const groupResource = { group, resource };
    const entry = registry.get({ groupResource, namespaced, metric });
    assert.ok(entry, `${resource}/${metric} is registered`);
    const q = buildCustomQuery(entry.rule.metricsQuery, entry.rule.resources, {
      series: entry.seriesName,
      groupResource,
      namespace,
      names,
      metricSelector: [],
    });
    assert.equal(q, want);
  });
}

test("builds the query with a metric label selector first", () => {
  const groupResource = { group: "", resource: "services" };
  const entry = registry.get({ groupResource, namespaced: true, metric: "ingress_hits" });
  assert.ok(entry);
  const q = buildCustomQuery(entry.rule.metricsQuery, entry.rule.resources, {
    series: entry.seriesName,
    groupResource,
    namespace: "somens",
    names: ["somesvc"],
    metricSelector: parseRequirements("param1=value1"),
  });
  assert.equal(
    q,
    'sum(rate(ingress_hits_total{param1="value1",kube_namespace="somens",kube_service="somesvc"}[1m])) by (kube_service)',
  );
});
