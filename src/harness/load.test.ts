import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { isLoopback, startLoad } from "./load.ts";

test("only loopback addresses count as loopback", () => {
  for (const h of ["127.0.0.1", "127.27.0.5", "localhost", "::1", "[::1]"])
    assert.ok(isLoopback(h), h);
  for (const h of ["10.0.0.1", "192.168.1.1", "8.8.8.8", "example.com", "128.0.0.1"]) {
    assert.ok(!isLoopback(h), h);
  }
});

test("load runs at its rate for its duration, then stops by itself", async () => {
  let hits = 0;
  const srv = createServer((_req, res) => {
    hits++;
    res.end("ok");
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  const run = startLoad({
    urls: () => [`http://127.0.0.1:${String(port)}/`],
    ratePerSecond: 50,
    durationMs: 400,
  });
  await run.done;
  await new Promise((r) => setTimeout(r, 200));
  srv.close();
  assert.ok(run.sent() >= 10 && run.sent() <= 25, `sent ${String(run.sent())}`);
  assert.equal(hits, run.sent());
  assert.equal(run.failed(), 0);
});

test("a non-loopback target stops the load without sending anything", async () => {
  const run = startLoad({
    urls: () => ["http://10.1.2.3:80/"],
    ratePerSecond: 100,
    durationMs: 1000,
  });
  await run.done;
  assert.equal(run.sent(), 0);
  assert.equal(run.failed(), 1);
});
