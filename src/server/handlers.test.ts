/**
 * @module server/handlers.test
 * The authentication filter's own failures: a request whose filters fail gets a 500 Status and
 * never reaches the handler, and the process goes on (an unhandled rejection would end it).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DelegatedAuth } from "../auth/delegated-auth.ts";
import { silentLogger } from "../observability/logger.ts";
import { authenticated } from "./handlers.ts";

function call(filter: ReturnType<typeof authenticated>, url: string) {
  return new Promise<{ status: number; body: string }>((resolve) => {
    const res = {
      statusCode: 0,
      headersSent: false,
      setHeader: () => res,
      end: (body: string) => {
        resolve({ status: res.statusCode, body });
      },
      once: () => res,
    };
    const req = { url, method: "GET", rawHeaders: [], socket: { getPeerCertificate: () => ({}) } };
    filter(req as never, res as never);
  });
}

test("a filter that fails, at once or later, is the request's 500; the handler never runs", async () => {
  let handled = 0;
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => rejections.push(e);
  process.on("unhandledRejection", onRejection);
  try {
    for (const fail of [
      () => {
        throw new TypeError("thrown");
      },
      () => Promise.reject(new TypeError("rejected")),
    ]) {
      const auth = { authenticateAndAuthorize: fail } as unknown as DelegatedAuth;
      const filter = authenticated(auth, () => handled++, silentLogger(), []);
      const r = await call(filter, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/*/m");
      assert.equal(r.status, 500);
      const status = JSON.parse(r.body) as { kind: string; code: number; message: string };
      assert.equal(status.kind, "Status");
      assert.equal(status.code, 500);
      // The cause stays in the log.
      assert.doesNotMatch(status.message, /thrown|rejected/);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(handled, 0);
    assert.deepEqual(rejections, []);
  } finally {
    process.off("unhandledRejection", onRejection);
  }
});
