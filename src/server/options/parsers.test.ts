import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "@commander-js/extra-typings";
import {
  bool,
  duration,
  header,
  http2Streams,
  list,
  namespacedName,
  nonNegativeInt,
  port,
} from "./parsers.ts";

const refused = (f: () => unknown, message: RegExp) => {
  assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message));
};

test("duration: Go durations in milliseconds", () => {
  assert.equal(duration("1m30s"), 90_000);
  assert.equal(duration("25ms"), 25);
  refused(() => duration("abc"), /invalid duration "abc"/);
});

test("port: 0-65535", () => {
  assert.equal(port("6443"), 6443);
  refused(() => port("65536"), /expected a port number/);
  refused(() => port("x"), /expected a port number/);
});

test("nonNegativeInt: digits only", () => {
  assert.equal(nonNegativeInt("0"), 0);
  refused(() => nonNegativeInt("-1"), /non-negative integer/);
  refused(() => nonNegativeInt("1.5"), /non-negative integer/);
});

test("http2Streams: Go int, negative is the default (0), at most 2^32-1", () => {
  assert.equal(http2Streams("-5"), 0);
  assert.equal(http2Streams("4294967295"), 4294967295);
  refused(() => http2Streams("4294967296"), /up to 4294967295/);
});

test("bool: Go's spellings", () => {
  assert.equal(bool("t"), true);
  assert.equal(bool("False"), false);
  refused(() => bool("maybe"), /expected true or false/);
});

test("list drops empty items; header collects NAME=VALUE", () => {
  assert.deepEqual(list("a,,b,"), ["a", "b"]);
  // The default passed in as `previous` is replaced; a list from an earlier use is extended.
  assert.deepEqual(list("c", ["default"]), ["c"]);
  assert.deepEqual(list("d,e", list("a,b")), ["a", "b", "d", "e"]);
  assert.deepEqual(header("B=2=3", { A: "1" }), { A: "1", B: "2=3" });
  refused(() => header("=x", {}), /expected NAME=VALUE, got "=x"/);
});

test("namespacedName: NAMESPACE/NAME, both DNS-shaped, the name may hold dots", () => {
  assert.deepEqual(namespacedName("seed/nginx"), { namespace: "seed", name: "nginx" });
  assert.deepEqual(namespacedName("a-1/web.v2"), { namespace: "a-1", name: "web.v2" });
  for (const bad of [
    "nginx",
    "seed/",
    "/nginx",
    "Seed/nginx",
    "a.b/nginx",
    "seed/nginx/x",
    "seed/-x",
  ]) {
    assert.throws(() => namespacedName(bad), InvalidArgumentError, bad);
  }
});
