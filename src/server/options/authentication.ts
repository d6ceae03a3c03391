/**
 * @module server/options/authentication
 * Delegated authentication, the generic apiserver's DelegatingAuthenticationOptions: the
 * kubeconfig for TokenReview and the auth ConfigMap, client CAs and the front-proxy headers.
 */
import { Option } from "@commander-js/extra-typings";
import type { DelegatingAuthenticationOptions } from "../../auth/authentication-config.ts";
import { duration, list } from "./parsers.ts";

export const authenticationFlags = {
  kubeconfig: () =>
    new Option(
      "--authentication-kubeconfig <file>",
      "kubeconfig for TokenReview and the auth ConfigMap (default: --lister-kubeconfig, else in-cluster)",
    ),
  skipLookup: () =>
    new Option(
      "--authentication-skip-lookup",
      "do not read kube-system/extension-apiserver-authentication",
    ).default(false),
  tolerateLookupFailure: () =>
    new Option(
      "--authentication-tolerate-lookup-failure",
      "start even if the auth ConfigMap cannot be read",
    ).default(false),
  tokenCacheTtl: () =>
    new Option(
      "--authentication-token-webhook-cache-ttl <duration>",
      "how long TokenReview answers are cached",
    )
      .argParser(duration)
      .default(10_000, "10s"),
  clientCaFile: () =>
    new Option(
      "--client-ca-file <file>",
      "CA bundle for client certificates (overrides the ConfigMap)",
    ),
  requestheaderClientCaFile: () =>
    new Option(
      "--requestheader-client-ca-file <file>",
      "CA bundle for front-proxy client certificates (overrides the ConfigMap)",
    ),
  requestheaderAllowedNames: () =>
    new Option("--requestheader-allowed-names <list>", "allowed front-proxy certificate CNs")
      .default([] as string[])
      .argParser(list),
  requestheaderUsernameHeaders: () =>
    new Option("--requestheader-username-headers <list>", "username headers")
      .default(["x-remote-user"])
      .argParser(list),
  requestheaderGroupHeaders: () =>
    new Option("--requestheader-group-headers <list>", "group headers")
      .default(["x-remote-group"])
      .argParser(list),
  requestheaderExtraHeadersPrefix: () =>
    new Option("--requestheader-extra-headers-prefix <list>", "extra header prefixes")
      .default(["x-remote-extra-"])
      .argParser(list),
  requestheaderUidHeaders: () =>
    new Option("--requestheader-uid-headers <list>", "UID headers")
      .default([] as string[])
      .argParser(list),
};

export interface AuthenticationFlagValues {
  readonly authenticationKubeconfig?: string | undefined;
  readonly authenticationSkipLookup: boolean;
  readonly authenticationTolerateLookupFailure: boolean;
  readonly authenticationTokenWebhookCacheTtl: number;
  readonly clientCaFile?: string | undefined;
  readonly requestheaderClientCaFile?: string | undefined;
  readonly requestheaderAllowedNames: readonly string[];
  readonly requestheaderUsernameHeaders: readonly string[];
  readonly requestheaderGroupHeaders: readonly string[];
  readonly requestheaderExtraHeadersPrefix: readonly string[];
  readonly requestheaderUidHeaders: readonly string[];
  /** Shared with the kube group: the fallback kubeconfig. */
  readonly listerKubeconfig?: string | undefined;
}

export interface AuthenticationConfig {
  /** For TokenReview and the ConfigMap; undefined: in-cluster. */
  readonly kubeconfig: string | undefined;
  readonly options: DelegatingAuthenticationOptions;
  readonly tokenCacheTtlMs: number;
}

/**
 * Nothing here can be wrong on its own: CA files and the ConfigMap are read when the
 * authenticator starts (and refused then, with their own message).
 */
export function validateAuthentication(v: AuthenticationFlagValues): AuthenticationConfig {
  return {
    kubeconfig: v.authenticationKubeconfig ?? v.listerKubeconfig,
    options: {
      clientCaFile: v.clientCaFile,
      requestheaderClientCaFile: v.requestheaderClientCaFile,
      requestheaderAllowedNames: v.requestheaderAllowedNames,
      requestheaderUsernameHeaders: v.requestheaderUsernameHeaders,
      requestheaderGroupHeaders: v.requestheaderGroupHeaders,
      requestheaderExtraHeadersPrefix: v.requestheaderExtraHeadersPrefix,
      requestheaderUidHeaders: v.requestheaderUidHeaders,
      skipLookup: v.authenticationSkipLookup,
      tolerateLookupFailure: v.authenticationTolerateLookupFailure,
    },
    tokenCacheTtlMs: v.authenticationTokenWebhookCacheTtl,
  };
}
