/**
 * @module providers/resource/objects.test
 * Nodes for metrics.k8s.io are read as metadata only (PartialObjectMetadata), the list in pages;
 * a node that does not exist is undefined.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KubeApiError, type KubeJson } from "../../kube/client.ts";
import { KubeResourceObjects, LIST_PAGE_SIZE, NODE_METADATA } from "./objects.ts";

interface Asked {
  readonly path: string;
  readonly accept: string | undefined;
}

/** The API server's side of node reads: pages of `perPage` from `names`. */
function nodesKube(names: readonly string[], perPage: number, asked: Asked[]): KubeJson {
  return {
    json: (_method: string, path: string, _body?: unknown, o?: { accept?: string }) => {
      asked.push({ path, accept: o?.accept });
      const url = new URL(path, "https://api");
      const one = /^\/api\/v1\/nodes\/(.+)$/.exec(url.pathname);
      if (one) {
        const name = decodeURIComponent(one[1] ?? "");
        if (!names.includes(name)) {
          return Promise.reject(new KubeApiError(404, "{}", `GET ${url.pathname}`));
        }
        return Promise.resolve({ metadata: { name, labels: { n: name } } });
      }
      const from = Number(url.searchParams.get("continue") ?? "0");
      const to = Math.min(names.length, from + perPage);
      return Promise.resolve({
        metadata: to < names.length ? { continue: String(to) } : {},
        items: names.slice(from, to).map((name) => ({ metadata: { name, labels: { n: name } } })),
      });
    },
  };
}

describe("nodes for metrics.k8s.io", () => {
  test("are listed as metadata, page by page, with the label selector on each page", async () => {
    const names = Array.from({ length: 5 }, (_, i) => `node-${String(i)}`);
    const asked: Asked[] = [];
    const nodes = await new KubeResourceObjects(nodesKube(names, 2, asked)).listNodes("a=b");
    assert.deepEqual(
      nodes,
      names.map((name) => ({ name, labels: { n: name } })),
    );
    const list = `/api/v1/nodes?labelSelector=a%3Db&limit=${String(LIST_PAGE_SIZE)}`;
    assert.deepEqual(
      asked.map((a) => a.path),
      [list, `${list}&continue=2`, `${list}&continue=4`],
    );
    for (const a of asked) {
      assert.equal(a.accept, "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
    }
  });

  test("one node is read as metadata; a missing one is undefined", async () => {
    const asked: Asked[] = [];
    const objects = new KubeResourceObjects(nodesKube(["a"], 1, asked));
    assert.deepEqual(await objects.getNode("a"), { name: "a", labels: { n: "a" } });
    assert.equal(await objects.getNode("b"), undefined);
    assert.deepEqual(asked, [
      { path: "/api/v1/nodes/a", accept: NODE_METADATA },
      { path: "/api/v1/nodes/b", accept: NODE_METADATA },
    ]);
  });
});
