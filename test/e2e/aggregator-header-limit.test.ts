/**
 * @module test/aggregator-header-limit
 * The header limit the adapter advertises, seen from the real aggregator (kube-apiserver, Go's
 * HTTP/2 transport) that multiplexes every caller's request on its connections to the adapter: a
 * request with a 300 KB header (kube-apiserver itself takes up to 1 MiB) fails alone, refused by
 * Go's transport because it is over the adapter's SETTINGS_MAX_HEADER_LIST_SIZE, and the requests
 * beside it are answered. Without that setting the aggregator sent the block, nghttp2 ended the
 * connection (GOAWAY, which also takes the requests in flight on it: test/e2e/serving-limits.test.ts)
 * and the request ran into the aggregator's deadline ("context deadline exceeded").
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { before, describe, test } from "node:test";
import type { ClusterInfo } from "../../src/harness/cluster.ts";
import { testCluster, waitFor } from "../support/cluster.ts";
import { ensureRegisteredAdapter } from "../support/registered-adapter.ts";

const T = { timeout: 180_000 };
const DISCOVERY = "/apis/custom.metrics.k8s.io/v1beta1";

interface Reply {
  readonly status: number;
  readonly text: string;
}

function get(
  url: string,
  ca: string,
  creds: { cert: string; key: string },
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { ca, ...creds, headers, agent: false, timeout: 30_000, maxHeaderSize: 1 << 20 },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out: GET ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

describe("the adapter's header limit behind the aggregator", () => {
  let info: ClusterInfo;
  let ca: string;
  let admin: { cert: string; key: string };

  before(async () => {
    info = await testCluster();
    await ensureRegisteredAdapter(info);
    ca = await readFile(info.pki.caCert, "utf8");
    admin = {
      cert: await readFile(info.pki.adminCert, "utf8"),
      key: await readFile(info.pki.adminKey, "utf8"),
    };
  });

  test("a 300 KB header fails its own request only", T, async () => {
    const url = `${info.server}${DISCOVERY}`;
    // The aggregator may route to a just-registered adapter a moment after it reports Available.
    await waitFor(
      "the adapter's discovery through the aggregator",
      async () => ((await get(url, ca, admin)).status === 200 ? true : undefined),
      60_000,
      500,
    );
    for (let round = 0; round < 3; round++) {
      const beside = Array.from({ length: 20 }, () => get(url, ca, admin));
      const big = get(url, ca, admin, { "x-kcm-big": "b".repeat(300_000) });
      const after = Array.from({ length: 20 }, () => get(url, ca, admin));
      const bigReply = await big;
      console.log(
        `[aggregator-header-limit] round ${String(round)}: ${String(bigReply.status)} ${bigReply.text.slice(0, 300)}`,
      );
      const replies = await Promise.all([...beside, ...after]);
      assert.deepEqual(
        replies.map((r) => `${String(r.status)} ${r.status === 200 ? "" : r.text}`),
        replies.map(() => "200 "),
      );
      // Go's transport checked the adapter's SETTINGS_MAX_HEADER_LIST_SIZE and did not send it.
      assert.equal(bigReply.status, 503);
      assert.match(bigReply.text, /header list larger than peer's advertised limit/);
    }
  });
});
