/**
 * @module server/options/config-file
 * `--config` and how it is held: hot reload (`--disable-config-reload`) and `--strict-config`
 * (docs/flags.md).
 */
import { Option } from "@commander-js/extra-typings";

export const configFileFlags = {
  config: () =>
    new Option(
      "--config <file>",
      "prometheus-adapter configuration file; without it, the default rules of its config generator",
    ),
  disableConfigReload: () =>
    new Option(
      "--disable-config-reload",
      "do not reload --config when the file changes or on SIGHUP",
    ).default(false),
  strictConfig: () =>
    new Option(
      "--strict-config",
      "refuse to start on config warnings too (rules prometheus-adapter starts with but that fail at query time, overrides naming resources the cluster lacks): for CI checks",
    ).default(false),
};

export interface ConfigFileFlagValues {
  readonly config?: string | undefined;
  readonly disableConfigReload: boolean;
  readonly strictConfig: boolean;
}

export interface ConfigSource {
  /** undefined: the config generator's default rules. */
  readonly path: string | undefined;
  /** Watch the file (and SIGHUP); only with a file. */
  readonly reload: boolean;
  /** Warnings refuse the config as errors do. */
  readonly strict: boolean;
}

/** Nothing here can be wrong on its own; the file itself is checked when it is read. */
export function validateConfigFile(v: ConfigFileFlagValues): ConfigSource {
  return {
    path: v.config,
    reload: v.config !== undefined && !v.disableConfigReload,
    strict: v.strictConfig,
  };
}
