/**
 * @module auth/authentication-config
 * Where the client-certificate and front-proxy (requestheader) settings come from, as in
 * k8s.io/apiserver pkg/server/options/authentication.go (DelegatingAuthenticationOptions):
 *
 * - `--client-ca-file` given: it wins; otherwise `client-ca-file` from the ConfigMap
 *   `kube-system/extension-apiserver-authentication`.
 * - `--requestheader-client-ca-file` given: the whole requestheader config comes from the
 *   `--requestheader-*` flags (header defaults X-Remote-User, X-Remote-Group, X-Remote-Extra-);
 *   otherwise all of it (CA, header names, allowed names) comes from the ConfigMap.
 * - `--authentication-skip-lookup`: never read the ConfigMap.
 * - `--authentication-tolerate-lookup-failure`: a failed first read (e.g. Forbidden) is logged and
 *   the server starts without it, instead of failing. A missing ConfigMap is not a failure.
 *
 * {@link DynamicAuthenticationConfig} re-reads the ConfigMap (and the flag files) periodically and
 * tells listeners when the effective config changed; a failed re-read keeps the last good config.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { KubeApiError } from "../kube/client.ts";
import type { Logger } from "../observability/logger.ts";
import type { KubeJson } from "./types.ts";

export const AUTHENTICATION_CONFIGMAP = {
  namespace: "kube-system",
  name: "extension-apiserver-authentication",
} as const;

const CONFIGMAP_PATH = `/api/v1/namespaces/${AUTHENTICATION_CONFIGMAP.namespace}/configmaps/${AUTHENTICATION_CONFIGMAP.name}`;

/** The ConfigMap keys kube-apiserver's cluster_authentication_trust_controller writes. */
export const CONFIGMAP_KEYS = {
  clientCa: "client-ca-file",
  requestHeaderCa: "requestheader-client-ca-file",
  usernameHeaders: "requestheader-username-headers",
  uidHeaders: "requestheader-uid-headers",
  groupHeaders: "requestheader-group-headers",
  extraHeaderPrefixes: "requestheader-extra-headers-prefix",
  allowedNames: "requestheader-allowed-names",
} as const;

export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}

/** Front-proxy settings; the authenticator trusts identity headers only under these. */
export interface RequestHeaderConfig {
  readonly caBundle: readonly X509Certificate[];
  /** Allowed front-proxy CNs; empty allows any CN from the CA. */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

export type ConfigSource = "flag" | "configmap" | "none";

/** The effective settings at one moment. */
export interface AuthenticationConfig {
  /** CAs for plain x509 client certificates; empty turns that authenticator off. */
  readonly clientCa: readonly X509Certificate[];
  /** Undefined turns the requestheader authenticator off. */
  readonly requestHeader: RequestHeaderConfig | undefined;
  readonly sources: { readonly clientCa: ConfigSource; readonly requestHeader: ConfigSource };
}

/** The delegated-authentication flags (names as upstream's, in camelCase). */
export interface DelegatingAuthenticationOptions {
  /** `--client-ca-file` (a path). */
  readonly clientCaFile?: string | undefined;
  /** `--requestheader-client-ca-file` (a path). */
  readonly requestheaderClientCaFile?: string | undefined;
  /** `--requestheader-username-headers`, default [x-remote-user]. */
  readonly requestheaderUsernameHeaders?: readonly string[] | undefined;
  /** `--requestheader-uid-headers`, default none. */
  readonly requestheaderUidHeaders?: readonly string[] | undefined;
  /** `--requestheader-group-headers`, default [x-remote-group]. */
  readonly requestheaderGroupHeaders?: readonly string[] | undefined;
  /** `--requestheader-extra-headers-prefix`, default [x-remote-extra-]. */
  readonly requestheaderExtraHeadersPrefix?: readonly string[] | undefined;
  /** `--requestheader-allowed-names`, default empty (any CN). */
  readonly requestheaderAllowedNames?: readonly string[] | undefined;
  /** `--authentication-skip-lookup`. */
  readonly skipLookup?: boolean | undefined;
  /** `--authentication-tolerate-lookup-failure`. */
  readonly tolerateLookupFailure?: boolean | undefined;
}

/** RequestHeaderAuthenticationOptions defaults in DelegatingAuthenticationOptions. */
export const REQUESTHEADER_FLAG_DEFAULTS = {
  usernameHeaders: ["x-remote-user"],
  uidHeaders: [],
  groupHeaders: ["x-remote-group"],
  extraHeaderPrefixes: ["x-remote-extra-"],
  allowedNames: [],
} as const satisfies Omit<RequestHeaderConfig, "caBundle">;

/** Every certificate in a PEM bundle. Throws AuthConfigError on a bad block. */
export function parsePemBundle(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new AuthConfigError(
        `${what}: certificate ${String(i + 1)} is not valid PEM: ${(e as Error).message}`,
      );
    }
  });
}

/** deserializeStrings in requestheader_controller.go: "" is no value; otherwise a JSON string array. */
function jsonStrings(data: Readonly<Record<string, string>>, key: string): string[] {
  const raw = data[key] ?? "";
  if (raw === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new AuthConfigError(`${key}: not a JSON array of strings: ${(e as Error).message}`);
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === "string")) {
    throw new AuthConfigError(`${key}: not a JSON array of strings: ${raw}`);
  }
  return parsed;
}

/** What the ConfigMap says, parsed. An absent CA key gives an empty bundle. */
export interface AuthenticationConfigMapData {
  readonly clientCa: readonly X509Certificate[];
  readonly requestHeader: RequestHeaderConfig;
}

export function parseAuthenticationConfigMap(
  data: Readonly<Record<string, string>>,
): AuthenticationConfigMapData {
  const k = CONFIGMAP_KEYS;
  return {
    clientCa: parsePemBundle(data[k.clientCa] ?? "", k.clientCa),
    requestHeader: {
      caBundle: parsePemBundle(data[k.requestHeaderCa] ?? "", k.requestHeaderCa),
      usernameHeaders: jsonStrings(data, k.usernameHeaders),
      uidHeaders: jsonStrings(data, k.uidHeaders),
      groupHeaders: jsonStrings(data, k.groupHeaders),
      extraHeaderPrefixes: jsonStrings(data, k.extraHeaderPrefixes),
      allowedNames: jsonStrings(data, k.allowedNames),
    },
  };
}

/** PEM text of the flag files, read by the caller (so this stays pure). */
export interface FlagFileContents {
  readonly clientCa?: string | undefined;
  readonly requestHeaderCa?: string | undefined;
}

/**
 * Combines flags and ConfigMap as DelegatingAuthenticationOptions.ApplyTo does. `configMap` is
 * undefined when it was not read (skipped, missing, or a tolerated failure).
 */
export function resolveAuthenticationConfig(
  opts: DelegatingAuthenticationOptions,
  files: FlagFileContents,
  configMap: AuthenticationConfigMapData | undefined,
): AuthenticationConfig {
  let clientCa: readonly X509Certificate[] = [];
  let clientCaSource: ConfigSource = "none";
  if (opts.clientCaFile) {
    clientCa = parsePemBundle(files.clientCa ?? "", opts.clientCaFile);
    clientCaSource = "flag";
  } else if (configMap && configMap.clientCa.length > 0) {
    clientCa = configMap.clientCa;
    clientCaSource = "configmap";
  }

  let requestHeader: RequestHeaderConfig | undefined;
  let requestHeaderSource: ConfigSource = "none";
  if (opts.requestheaderClientCaFile) {
    const d = REQUESTHEADER_FLAG_DEFAULTS;
    requestHeader = {
      caBundle: parsePemBundle(files.requestHeaderCa ?? "", opts.requestheaderClientCaFile),
      usernameHeaders: opts.requestheaderUsernameHeaders ?? d.usernameHeaders,
      uidHeaders: opts.requestheaderUidHeaders ?? d.uidHeaders,
      groupHeaders: opts.requestheaderGroupHeaders ?? d.groupHeaders,
      extraHeaderPrefixes: opts.requestheaderExtraHeadersPrefix ?? d.extraHeaderPrefixes,
      allowedNames: opts.requestheaderAllowedNames ?? d.allowedNames,
    };
    requestHeaderSource = "flag";
  } else if (configMap && configMap.requestHeader.caBundle.length > 0) {
    requestHeader = configMap.requestHeader;
    requestHeaderSource = "configmap";
  }
  if (requestHeader && requestHeader.caBundle.length === 0) requestHeader = undefined;
  return {
    clientCa,
    requestHeader,
    sources: { clientCa: clientCaSource, requestHeader: requestHeaderSource },
  };
}

/** A stable text form of a config, to tell whether a re-read changed anything. */
export function configFingerprint(c: AuthenticationConfig): string {
  const fp = (certs: readonly X509Certificate[]) => certs.map((x) => x.fingerprint256).join(",");
  const rh = c.requestHeader;
  return JSON.stringify([
    fp(c.clientCa),
    rh
      ? [
          fp(rh.caBundle),
          rh.allowedNames,
          rh.usernameHeaders,
          rh.uidHeaders,
          rh.groupHeaders,
          rh.extraHeaderPrefixes,
        ]
      : null,
  ]);
}

interface ConfigMapObject {
  data?: Record<string, string>;
}

/**
 * GETs the ConfigMap. Not found reads as an empty ConfigMap (as upstream's controllers do);
 * anything else (Forbidden: the RoleBinding to extension-apiserver-authentication-reader is
 * missing) throws.
 */
export async function fetchAuthenticationConfigMap(
  client: KubeJson,
): Promise<AuthenticationConfigMapData> {
  try {
    const cm = await client.json<ConfigMapObject>("GET", CONFIGMAP_PATH);
    return parseAuthenticationConfigMap(cm.data ?? {});
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) return parseAuthenticationConfigMap({});
    if (e instanceof KubeApiError && e.status === 403) {
      throw new AuthConfigError(
        `unable to get configmap/${AUTHENTICATION_CONFIGMAP.name} in ${AUTHENTICATION_CONFIGMAP.namespace}; usually fixed by 'kubectl create rolebinding -n kube-system ROLEBINDING_NAME --role=extension-apiserver-authentication-reader --serviceaccount=YOUR_NS:YOUR_SA': ${e.message}`,
        { cause: e },
      );
    }
    throw e;
  }
}

export interface DynamicAuthenticationConfigOptions {
  readonly options: DelegatingAuthenticationOptions;
  /** Needed unless skipLookup is set. */
  readonly client?: KubeJson | undefined;
  /** Re-read period; 30 s by default. 0 disables the timer (call refresh() yourself). */
  readonly refreshIntervalMs?: number;
  readonly log?: Logger | undefined;
  /** Reads a flag file; node:fs by default (a seam for tests). */
  readonly readTextFile?: (path: string) => Promise<string>;
}

export type ConfigChangeListener = (config: AuthenticationConfig) => void;

/**
 * The current authentication config, kept fresh. Create it with {@link DynamicAuthenticationConfig.start},
 * which performs the first read and applies the lookup-failure policy.
 */
export class DynamicAuthenticationConfig {
  readonly #o: DynamicAuthenticationConfigOptions;
  readonly #listeners = new Set<ConfigChangeListener>();
  #config: AuthenticationConfig;
  #fingerprint: string;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  private constructor(o: DynamicAuthenticationConfigOptions, config: AuthenticationConfig) {
    this.#o = o;
    this.#config = config;
    this.#fingerprint = configFingerprint(config);
  }

  /** Reads flags and ConfigMap once, then keeps re-reading in the background. */
  static async start(o: DynamicAuthenticationConfigOptions): Promise<DynamicAuthenticationConfig> {
    const files = await readFlagFiles(o);
    let configMap: AuthenticationConfigMapData | undefined;
    if (lookupWanted(o.options)) {
      if (o.client === undefined) {
        o.log?.warn(
          "no client to look up configmap/extension-apiserver-authentication; client certificate and front-proxy authentication will not work",
        );
      } else {
        try {
          configMap = await fetchAuthenticationConfigMap(o.client);
        } catch (e) {
          if (o.options.tolerateLookupFailure !== true) {
            throw new AuthConfigError(
              `unable to load configmap based request-header-client-ca-file: ${(e as Error).message}`,
              { cause: e },
            );
          }
          o.log?.error(
            { err: e },
            "error looking up in-cluster authentication configuration; continuing without it (set --authentication-tolerate-lookup-failure=false to require it)",
          );
        }
      }
    }
    const dyn = new DynamicAuthenticationConfig(
      o,
      resolveAuthenticationConfig(o.options, files, configMap),
    );
    const every = o.refreshIntervalMs ?? 30_000;
    if (every > 0) {
      dyn.#timer = setInterval(() => {
        void dyn.refresh();
      }, every);
      dyn.#timer.unref();
    }
    return dyn;
  }

  /** A fixed config, never refreshed (for tests and `--authentication-skip-lookup` setups). */
  static fixed(config: AuthenticationConfig): DynamicAuthenticationConfig {
    return new DynamicAuthenticationConfig({ options: { skipLookup: true } }, config);
  }

  current(): AuthenticationConfig {
    return this.#config;
  }

  /** Calls `listener` after each change; returns an unsubscribe function. */
  onChange(listener: ConfigChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads now. Failures are logged and keep the last good config; never throws. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const o = this.#o;
    try {
      const files = await readFlagFiles(o);
      const configMap =
        lookupWanted(o.options) && o.client
          ? await fetchAuthenticationConfigMap(o.client)
          : undefined;
      const next = resolveAuthenticationConfig(o.options, files, configMap);
      const fp = configFingerprint(next);
      if (fp === this.#fingerprint) return;
      this.#config = next;
      this.#fingerprint = fp;
      o.log?.info({ sources: next.sources }, "authentication configuration changed");
      for (const l of this.#listeners) l(next);
    } catch (e) {
      o.log?.warn(
        { err: e },
        "re-reading the authentication configuration failed; keeping the last one",
      );
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }
}

function lookupWanted(o: DelegatingAuthenticationOptions): boolean {
  // Nothing to look up when both CAs come from flags.
  return o.skipLookup !== true && !(o.clientCaFile && o.requestheaderClientCaFile);
}

async function readFlagFiles(o: DynamicAuthenticationConfigOptions): Promise<FlagFileContents> {
  const read = o.readTextFile ?? ((p: string) => readFile(p, "utf8"));
  const { clientCaFile, requestheaderClientCaFile } = o.options;
  return {
    clientCa: clientCaFile ? await read(clientCaFile) : undefined,
    requestHeaderCa: requestheaderClientCaFile ? await read(requestheaderClientCaFile) : undefined,
  };
}
