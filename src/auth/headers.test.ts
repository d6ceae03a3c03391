/**
 * @module auth/headers.test
 * Go's http.Header semantics over a header record: names match whatever their case, repeated
 * headers keep their order, and Get reads the first value.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  firstHeaderValue,
  hasHeaderWithPrefix,
  headerEntries,
  headersFromRaw,
  headerValues,
} from "./headers.ts";

test("headersFromRaw keeps repeated headers apart, names lower-cased", () => {
  assert.deepEqual(
    { ...headersFromRaw(["X-Remote-Group", "a", "x-remote-group", "b", "Accept", "*/*"]) },
    {
      "x-remote-group": ["a", "b"],
      accept: ["*/*"],
    },
  );
});

test("names of Object.prototype members are headers like any other", () => {
  const h = headersFromRaw(["Constructor", "a", "__proto__", "b", "toString", "c"]);
  assert.deepEqual(headerValues(h, "constructor"), ["a"]);
  assert.deepEqual(headerValues(h, "__proto__"), ["b"]);
  assert.equal(firstHeaderValue(h, "tostring"), "c");
  // Absent names find nothing, inherited or not.
  const plain = headersFromRaw(["Accept", "*/*"]);
  for (const name of ["constructor", "__proto__", "hasOwnProperty", "valueOf"]) {
    assert.deepEqual(headerValues(plain, name), [], name);
    assert.equal(firstHeaderValue(plain, name), "", name);
  }
  assert.equal(hasHeaderWithPrefix(plain, ["constructor"]), false);
});

test("every spelling of a name counts, in record order", () => {
  const h = {
    "X-Remote-Group": ["a", "b"],
    other: "o",
    "x-remote-group": "c",
    "X-REMOTE-GROUP": undefined,
  };
  assert.deepEqual(headerValues(h, "x-remote-group"), ["a", "b", "c"]);
  assert.deepEqual(headerValues(h, "X-Remote-Group"), ["a", "b", "c"]);
  assert.deepEqual(headerValues(h, "missing"), []);
});

test("firstHeaderValue is the first of headerValues, or empty", () => {
  const cases = [
    { "x-remote-user": ["u1", "u2"] },
    { "X-Remote-User": [], "x-remote-user": "u3" },
    { "X-Remote-User": undefined, "x-remote-user": [""] },
    { "x-remote-user": [] },
    {},
  ];
  for (const h of cases) {
    assert.equal(firstHeaderValue(h, "X-Remote-User"), headerValues(h, "x-remote-user")[0] ?? "");
  }
  assert.equal(firstHeaderValue(cases[1] ?? {}, "x-remote-user"), "u3");
});

test("hasHeaderWithPrefix: any name, whatever its case, that starts with a lower-cased prefix", () => {
  const h = { "X-Remote-Extra-Scopes": ["a"], accept: "*/*" };
  assert.equal(hasHeaderWithPrefix(h, ["x-remote-extra-"]), true);
  assert.equal(hasHeaderWithPrefix(h, ["x-other-", "x-remote-"]), true);
  assert.equal(hasHeaderWithPrefix(h, ["x-other-"]), false);
  assert.equal(hasHeaderWithPrefix({ "x-remote-extra-a": undefined }, ["x-remote-extra-"]), false);
  assert.equal(hasHeaderWithPrefix({ "x-remote-extra-a": [] }, ["x-remote-extra-"]), true);
  assert.equal(hasHeaderWithPrefix(h, []), false);
});

test("headerEntries merges spellings of a name, first spelling's place", () => {
  assert.deepEqual(headerEntries({ A: ["1"], b: "2", a: "3" }), [
    ["a", ["1", "3"]],
    ["b", ["2"]],
  ]);
});
