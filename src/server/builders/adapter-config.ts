/**
 * @module server/builders/adapter-config
 * The prometheus-adapter config as `serve` runs it: read and parsed before anything slow (bad
 * files stop the adapter with `file:line:col`), compiled once API discovery can name resources,
 * and the same two steps again for each hot reload.
 */
import { defaultConfig } from "../../config/defaults.ts";
import { ConfigError, type ConfigIssue } from "../../config/errors.ts";
import { parseConfig, readConfigText, type LoadOptions } from "../../config/load.ts";
import type { AdapterConfig } from "../../config/schema.ts";
import type { ResourceMapper } from "../../naming/resource-label.ts";
import {
  checkTemplate,
  compileRules,
  type CompiledRules,
} from "../../providers/prometheus/rules.ts";
import type { ConfigSource } from "../options/config-file.ts";

export interface ParsedConfig {
  /** The file's text as read; undefined without `--config`. */
  readonly text: string | undefined;
  readonly config: AdapterConfig;
  /** Warnings found so far (compiling adds the overrides the cluster cannot resolve yet). */
  readonly warnings: ConfigIssue[];
}

function loadOptions(strict: boolean, into: ConfigIssue[]): LoadOptions {
  return { compileTemplate: checkTemplate, strict, onWarning: (w) => into.push(w) };
}

/** Reads and parses `--config`, or the config generator's default rules without one. */
export async function readAdapterConfig(source: ConfigSource): Promise<ParsedConfig> {
  const warnings: ConfigIssue[] = [];
  if (source.path === undefined) return { text: undefined, config: defaultConfig(), warnings };
  const text = await readConfigText(source.path);
  return {
    text,
    config: parseConfig(text, source.path, loadOptions(source.strict, warnings)),
    warnings,
  };
}

/**
 * Compiles the rules against the cluster's resources; with `--strict-config` any warning (the
 * parse's and the compile's) refuses the config as a {@link ConfigError}. Adds the compile's
 * warnings to `warnings`.
 */
export function compileAdapterConfig(
  config: AdapterConfig,
  naming: ResourceMapper,
  strict: boolean,
  warnings: ConfigIssue[],
): CompiledRules {
  const rules = compileRules(config, naming);
  warnings.push(...rules.pending);
  if (strict && warnings.length > 0) throw new ConfigError(warnings);
  return rules;
}

export interface ReloadedConfig {
  readonly config: AdapterConfig;
  readonly rules: CompiledRules;
  readonly warnings: readonly ConfigIssue[];
}

/** Parse and compile new config text, as at startup (the reload's validation step). */
export function reparseAdapterConfig(
  text: string,
  path: string,
  naming: ResourceMapper,
  strict: boolean,
): ReloadedConfig {
  const warnings: ConfigIssue[] = [];
  const config = parseConfig(text, path, loadOptions(strict, warnings));
  const rules = compileAdapterConfig(config, naming, strict, warnings);
  return { config, rules, warnings };
}
