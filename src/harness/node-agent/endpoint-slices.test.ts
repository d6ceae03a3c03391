import { test } from "node:test";
import assert from "node:assert/strict";
import type * as k8s from "@kubernetes/client-node";
import {
  addressIp,
  desiredSlices,
  podHostname,
  sliceContent,
  type SlicePod,
} from "./endpoint-slices.ts";
import { proxiedPorts } from "./service-proxy.ts";

const svc = (
  name: string,
  selector: Record<string, string> | undefined,
  clusterIP = "127.9.240.10",
): k8s.V1Service => ({
  metadata: { name, namespace: "ns", uid: `uid-${name}` },
  spec: {
    clusterIP,
    ...(selector ? { selector } : {}),
    ports: [{ name: "https", port: 443, targetPort: "https" }],
  },
});

const pod = (name: string, ip: string, o: Partial<SlicePod> = {}): SlicePod => ({
  name,
  uid: `uid-${name}`,
  ip,
  namespace: "ns",
  labels: { app: "a" },
  containers: [{ name: "c", ports: [{ name: "https", containerPort: 6443 }] }],
  ready: true,
  terminating: false,
  ...o,
});

test("pod A-record names carry the loopback IP both ways", () => {
  assert.equal(podHostname("127.9.0.3", "ns"), "127-9-0-3.ns.pod.cluster.local");
  assert.equal(addressIp("127-9-0-3.ns.pod.cluster.local"), "127.9.0.3");
  assert.equal(addressIp("10.0.0.1"), "10.0.0.1");
  assert.equal(addressIp("example.com"), undefined);
});

test("one slice per selecting Service: ready, terminating and other pods as the controller says", () => {
  const slices = desiredSlices(
    [svc("s", { app: "a" }), svc("no-selector", undefined)],
    [
      pod("p1", "127.9.0.3"),
      pod("p2", "127.9.0.4", { ready: false }),
      pod("p3", "127.9.0.5", { terminating: true }),
      pod("other", "127.9.0.6", { labels: { app: "b" } }),
    ],
    "node-1",
  );
  assert.equal(slices.length, 1);
  const s = slices[0];
  assert.ok(s);
  assert.equal(s.addressType, "FQDN");
  assert.equal(s.metadata?.labels?.["kubernetes.io/service-name"], "s");
  const meta = s.metadata;
  assert.ok(meta);
  assert.equal(meta.ownerReferences?.[0]?.uid, "uid-s");
  assert.deepEqual(s.ports, [{ name: "https", port: 6443, protocol: "TCP" }]);
  assert.deepEqual(
    s.endpoints.map((e) => [e.targetRef?.name, e.conditions?.ready, e.conditions?.terminating]),
    [
      ["p1", true, false],
      ["p2", false, false],
      ["p3", false, true],
    ],
  );
  // A Service selecting nothing still has its (empty) slice.
  const empty = desiredSlices([svc("s", { app: "none" })], [pod("p1", "127.9.0.3")], "n");
  assert.equal(empty[0]?.endpoints.length, 0);
  const e0 = empty[0];
  assert.ok(e0);
  assert.notEqual(sliceContent(s), sliceContent(e0));
});

test("the proxy follows the slices: ready endpoints only, down IPs dropped at once, loopback ClusterIPs only", () => {
  const services = [svc("s", { app: "a" }), svc("routed", { app: "a" }, "10.96.0.5")];
  const slices = desiredSlices(
    services,
    [pod("p1", "127.9.0.3"), pod("p2", "127.9.0.4"), pod("p3", "127.9.0.5", { ready: false })],
    "n",
  );
  const ports = proxiedPorts(services, slices, new Set());
  assert.deepEqual(ports, [
    {
      service: "ns/s:https",
      ip: "127.9.240.10",
      port: 443,
      endpoints: [
        { ip: "127.9.0.3", port: 6443 },
        { ip: "127.9.0.4", port: 6443 },
      ],
    },
  ]);
  const after = proxiedPorts(services, slices, new Set(["127.9.0.3"]));
  assert.deepEqual(after[0]?.endpoints, [{ ip: "127.9.0.4", port: 6443 }]);
});
