import assert from "node:assert/strict";
import { StatusError } from "../../apimachinery/status.ts";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Backends, readServer, readTenancy } from "./backends.ts";
import { PrometheusClient } from "../../prometheus/client.ts";

test("readTenancy: absent is off; header defaults to X-Scope-OrgID", () => {
  assert.equal(readTenancy(undefined), undefined);
  const t = readTenancy({ namespaces: { a: "t1", b: "" } });
  assert.ok(t);
  assert.equal(t.header, "X-Scope-OrgID");
  assert.deepEqual([...t.namespaces], [["a", "t1"]]);
});

test("tenantOf: mapping over label over default; none is a 404 and nothing else", async () => {
  const main = await PrometheusClient.create({ url: "http://127.0.0.1:9" });
  let reads = 0;
  const b = new Backends({
    main,
    tenancy: readTenancy({ namespaceLabel: "tenant", namespaces: { mapped: "m" } }),
    namespaceLabels: (ns) => {
      reads++;
      return Promise.resolve(ns === "labelled" || ns === "mapped" ? { tenant: "l" } : {});
    },
  });
  assert.equal(await b.tenantOf("mapped"), "m");
  assert.equal(await b.tenantOf("labelled"), "l");
  assert.equal(await b.tenantOf("labelled"), "l");
  assert.equal(reads, 1, "labels are cached");
  await assert.rejects(b.tenantOf("plain"), (e: unknown) => {
    assert.ok(e instanceof StatusError);
    assert.equal(e.status.code, 404);
    assert.match(e.status.message, /no tenant for namespace plain/);
    return true;
  });
  await assert.rejects(b.tenantOf(""), /no tenant for cluster-scoped objects/);
  b.setTenancy(readTenancy({ default: "d" }));
  assert.equal(await b.tenantOf("plain"), "d");
  assert.deepEqual(await b.tenants(), ["d"]);
  b.setTenancy(undefined);
  assert.equal(await b.tenantOf("plain"), undefined);
  assert.deepEqual(await b.tenants(), [undefined]);
  await main.close();
});

test("each tenant is its own client, sending only its own header", async () => {
  const seen: (string | undefined)[] = [];
  const srv = createServer((req, res) => {
    const h = req.headers["x-scope-orgid"];
    seen.push(Array.isArray(h) ? h.join(",") : h);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } }));
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as AddressInfo;
  // A global header of the same name is replaced, never sent alongside.
  const main = await PrometheusClient.create({
    url: `http://127.0.0.1:${String(port)}`,
    headers: { "x-scope-orgid": "global" },
  });
  const b = new Backends({ main, tenancy: readTenancy({ default: "d" }) });
  const rule = { origin: "rules[0]" };
  const a1 = b.client(rule, "a");
  assert.equal(b.client(rule, "a"), a1, "views are cached");
  assert.notEqual(b.client(rule, "b"), a1);
  const at = new Date();
  await Promise.all([
    a1.query("up", at),
    b.client(rule, "b").query("up", at),
    main.query("up", at),
  ]);
  assert.deepEqual([...seen].sort(), ["a", "b", "global"]);
  await main.close();
  srv.close();
});

test("readServer: equal configs share a key; the name has no credentials", () => {
  const s1 = readServer({ url: "http://u:p@h:9090/prom/", timeout: "5s" });
  const s2 = readServer({ url: "http://u:p@h:9090/prom/", timeout: "5s" });
  assert.ok(s1 && s2);
  assert.equal(s1.key, s2.key);
  assert.equal(s1.name, "http://h:9090/prom");
  assert.equal(s1.options.timeoutMs, 5000);
});
