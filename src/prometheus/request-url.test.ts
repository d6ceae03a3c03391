/**
 * @module prometheus/request-url.test
 * Request building: Go-compatible time format, path joining and parameter order, the base URL's
 * query, and the switch to POST for long GETs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  encodeParams,
  formatTime,
  joinPath,
  MAX_GET_URL_LENGTH,
  prepareRequest,
} from "./request-url.ts";

test("formatTime: Unix seconds, millisecond precision, shortest form", () => {
  assert.equal(formatTime(new Date(1565786045323)), "1565786045.323");
  assert.equal(formatTime(new Date(1565786045300)), "1565786045.3");
  assert.equal(formatTime(new Date(1565786045000)), "1565786045");
  assert.equal(formatTime(new Date(1)), "0.001");
  assert.throws(() => formatTime(new Date(NaN)), TypeError);
});

test("joinPath behaves like Go path.Join", () => {
  assert.equal(joinPath("/", "/api/v1/query"), "/api/v1/query");
  assert.equal(joinPath("", "/api/v1/query"), "/api/v1/query");
  assert.equal(joinPath("/prefix", "/api/v1/query"), "/prefix/api/v1/query");
  assert.equal(joinPath("/prefix/", "/api/v1/query"), "/prefix/api/v1/query");
  assert.equal(joinPath("/a//b/../c/", "/api/v1/series"), "/a/c/api/v1/series");
});

test("encodeParams sorts keys and keeps the order of repeated values", () => {
  assert.equal(
    encodeParams([
      ["start", "1"],
      ["match[]", "b"],
      ["end", "2"],
      ["match[]", "a"],
    ]),
    "end=2&match%5B%5D=b&match%5B%5D=a&start=1",
  );
  assert.equal(encodeParams([["query", 'up{job="a b"}']]), "query=up%7Bjob%3D%22a+b%22%7D");
});

test("GET keeps the base URL's query; POST puts it in the URL and ours in the body", () => {
  const base = new URL("http://h:9090/prom/?tenant=a");
  assert.deepEqual(prepareRequest(base, "/api/v1/query", [["query", "up"]], "GET"), {
    method: "GET",
    path: "/prom/api/v1/query?tenant=a&query=up",
    body: undefined,
    autoPost: false,
  });
  assert.deepEqual(prepareRequest(base, "/api/v1/query", [["query", "up"]], "POST"), {
    method: "POST",
    path: "/prom/api/v1/query?tenant=a",
    body: "query=up",
    autoPost: false,
  });
  const bare = new URL("http://h:9090");
  assert.equal(prepareRequest(bare, "/api/v1/labels", [], "GET").path, "/api/v1/labels");
});

test("a GET whose URL exceeds 8 KiB becomes a POST; one at the limit stays a GET", () => {
  const base = new URL("http://h:9090");
  const fixed = "http://h:9090/api/v1/query?query=".length;
  const fits = "x".repeat(MAX_GET_URL_LENGTH - fixed);
  const at = prepareRequest(base, "/api/v1/query", [["query", fits]], "GET");
  assert.equal(at.method, "GET");
  assert.equal(base.origin.length + at.path.length, MAX_GET_URL_LENGTH);
  const over = prepareRequest(base, "/api/v1/query", [["query", `${fits}x`]], "GET");
  assert.deepEqual(over, {
    method: "POST",
    path: "/api/v1/query",
    body: `query=${fits}x`,
    autoPost: true,
  });
});
