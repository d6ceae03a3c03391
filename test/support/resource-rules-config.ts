/**
 * @module test/support/resource-rules-config
 * An adapter config that serves metrics.k8s.io from the local cluster's Prometheus:
 * examples/adapter-config.yaml with examples/resource/resource-rules.yaml appended (the example
 * tells users to do just that), written to a temporary file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const example = (path: string) => fileURLToPath(new URL(`../../examples/${path}`, import.meta.url));

/** The example config without resourceRules. */
export const EXAMPLE_CONFIG = example("adapter-config.yaml");
export const EXAMPLE_RESOURCE_RULES = example("resource/resource-rules.yaml");

/** Writes the combined config to a fresh temporary directory and returns its path. */
export function configWithResourceRules(): string {
  const file = join(mkdtempSync(join(tmpdir(), "kcm-resource-")), "adapter.yaml");
  writeFileSync(
    file,
    `${readFileSync(EXAMPLE_CONFIG, "utf8")}\n${readFileSync(EXAMPLE_RESOURCE_RULES, "utf8")}`,
  );
  return file;
}
