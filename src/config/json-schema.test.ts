import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  SCHEMA_FILE,
  adapterConfigJsonSchema,
  adapterConfigJsonSchemaText,
} from "./json-schema.ts";

test("schema/adapter-config.schema.json is the generated schema (rewrite with --write)", async () => {
  const committed = await readFile(SCHEMA_FILE, "utf8");
  assert.deepEqual(JSON.parse(committed), adapterConfigJsonSchema());
  assert.equal(committed, await adapterConfigJsonSchemaText());
});

test("the schema is strict and marks required keys", () => {
  const schema = adapterConfigJsonSchema() as {
    additionalProperties: boolean;
    $defs: Record<string, { required?: string[]; additionalProperties?: boolean }>;
  };
  assert.equal(schema.additionalProperties, false);
  // seriesQuery and metricsQuery may be absent, as upstream reads them (Go's zero value); load warns.
  assert.equal(schema.$defs.DiscoveryRule?.required, undefined);
  assert.equal(schema.$defs.ResourceMapping?.additionalProperties, false);
});
