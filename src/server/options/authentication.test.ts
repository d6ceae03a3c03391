import { test } from "node:test";
import assert from "node:assert/strict";
import {
  authenticationFlags,
  validateAuthentication,
  type AuthenticationFlagValues,
} from "./authentication.ts";
import { parseFlags } from "./test-parse.ts";

const validate = (lister: string | undefined, ...argv: string[]) =>
  validateAuthentication({
    ...parseFlags<AuthenticationFlagValues>(authenticationFlags, argv),
    listerKubeconfig: lister,
  });

test("defaults: the generic apiserver's request headers, lookup on, 10s token cache", () => {
  assert.deepEqual(validate(undefined), {
    kubeconfig: undefined,
    options: {
      clientCaFile: undefined,
      requestheaderClientCaFile: undefined,
      requestheaderAllowedNames: [],
      requestheaderUsernameHeaders: ["x-remote-user"],
      requestheaderGroupHeaders: ["x-remote-group"],
      requestheaderExtraHeadersPrefix: ["x-remote-extra-"],
      requestheaderUidHeaders: [],
      skipLookup: false,
      tolerateLookupFailure: false,
    },
    tokenCacheTtlMs: 10_000,
  });
});

test("the kubeconfig: its own flag, else --lister-kubeconfig, else in-cluster", () => {
  assert.equal(validate("/lister", "--authentication-kubeconfig=/authn").kubeconfig, "/authn");
  assert.equal(validate("/lister").kubeconfig, "/lister");
  assert.equal(validate(undefined).kubeconfig, undefined);
});

test("flags reach the authenticator's options", () => {
  const c = validate(
    undefined,
    "--authentication-skip-lookup",
    "--client-ca-file=/ca",
    "--requestheader-allowed-names=front-proxy-client,aggregator",
    "--requestheader-uid-headers=x-remote-uid",
    "--authentication-token-webhook-cache-ttl=1m",
  );
  assert.equal(c.options.skipLookup, true);
  assert.equal(c.options.clientCaFile, "/ca");
  assert.deepEqual(c.options.requestheaderAllowedNames, ["front-proxy-client", "aggregator"]);
  assert.deepEqual(c.options.requestheaderUidHeaders, ["x-remote-uid"]);
  assert.equal(c.tokenCacheTtlMs, 60_000);
});
