import { test } from "node:test";
import assert from "node:assert/strict";
import { isKcmError } from "../../errors.ts";
import {
  authorizationFlags,
  validateAuthorization,
  type AuthorizationFlagValues,
} from "./authorization.ts";
import { parseFlags } from "./test-parse.ts";

const values = (lister: string | undefined, ...argv: string[]) => ({
  ...parseFlags<AuthorizationFlagValues>(authorizationFlags, argv),
  listerKubeconfig: lister,
});

test("defaults: health paths open, 10s caches, the lister's kubeconfig", () => {
  assert.deepEqual(validateAuthorization(values("/lister"), true), {
    kubeconfig: "/lister",
    alwaysAllowPaths: ["/healthz", "/readyz", "/livez"],
    authorizedTtlMs: 10_000,
    unauthorizedTtlMs: 10_000,
    refreshAhead: true,
  });
  const own = values("/lister", "--authorization-kubeconfig=/authz");
  assert.equal(validateAuthorization(own, true).kubeconfig, "/authz");
});

test("a repeated list flag appends, as pflag's StringSlice; its first use replaces the default", () => {
  const twice = values(
    undefined,
    "--authorization-always-allow-paths=/a,/b",
    "--authorization-always-allow-paths=/c",
  );
  assert.deepEqual(validateAuthorization(twice, true).alwaysAllowPaths, ["/a", "/b", "/c"]);
});

test("a * before the end of a path is refused when authorization is in use", () => {
  const bad = values(undefined, "--authorization-always-allow-paths=/healthz,/a*b");
  assert.throws(
    () => validateAuthorization(bad, true),
    (e: unknown) =>
      isKcmError(e) &&
      e.code === "KCM_ERR_USAGE" &&
      e.message === '--authorization-always-allow-paths: only trailing * allowed in "a*b"',
  );
  // The plain-HTTP port never reads it, so it never stopped the adapter there.
  assert.deepEqual(validateAuthorization(bad, false).alwaysAllowPaths, ["/healthz", "/a*b"]);
  const prefix = values(undefined, "--authorization-always-allow-paths=/debug/*");
  assert.deepEqual(validateAuthorization(prefix, true).alwaysAllowPaths, ["/debug/*"]);
});

test("refresh ahead is on by default; --authorization-webhook-cache-refresh-ahead=false turns it off", () => {
  const off = values(undefined, "--authorization-webhook-cache-refresh-ahead=false");
  assert.equal(validateAuthorization(off, true).refreshAhead, false);
  const on = values(undefined, "--authorization-webhook-cache-refresh-ahead");
  assert.equal(validateAuthorization(on, true).refreshAhead, true);
  // A `serve` that does not declare the flag: on.
  const undeclared = { ...values(undefined), authorizationWebhookCacheRefreshAhead: undefined };
  assert.equal(validateAuthorization(undeclared, true).refreshAhead, true);
});
