/**
 * @module config/json-schema
 * JSON Schema of the config file (for editors: `# yaml-language-server: $schema=…`), generated
 * from the zod schema so the two cannot disagree. schema/adapter-config.schema.json is this
 * output; a test fails if the committed file drifts. To rewrite it:
 * `node --import tsx src/config/json-schema.ts --write`.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { AdapterConfigSchema } from "./schema.ts";

/** Repository-relative path of the committed schema file. */
export const SCHEMA_FILE = fileURLToPath(
  new URL("../../schema/adapter-config.schema.json", import.meta.url),
);

/** The schema of what a user writes (input side: optional keys stay optional). */
export function adapterConfigJsonSchema(): Record<string, unknown> {
  // Parts with a meta id (a rule, a resource mapping, a resource rule) go once under $defs.
  return z.toJSONSchema(AdapterConfigSchema, { io: "input", target: "draft-2020-12" });
}

/** The schema as file text, formatted the way prettier formats the repository. */
export async function adapterConfigJsonSchemaText(): Promise<string> {
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  return prettier.format(JSON.stringify(adapterConfigJsonSchema()), {
    ...options,
    parser: "json",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes("--write")) {
  await writeFile(SCHEMA_FILE, await adapterConfigJsonSchemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
