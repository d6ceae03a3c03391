import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubeApiError } from "../kube/client.ts";
import {
  bearerToken,
  TOKEN_REVIEW_PATH,
  TokenReviewAuthenticator,
  type TokenReviewStatus,
} from "./token-review-authenticator.ts";
import type { KubeJson } from "./types.ts";

const NO_RETRY = { initialMs: 1, factor: 1, jitter: 0, steps: 1 };

interface Sent {
  method: string;
  path: string;
  body: unknown;
}

/** A fake API server: `answer(token)` gives the TokenReview status or an error to throw. */
function fakeServer(answer: (token: string) => TokenReviewStatus | Error): KubeJson & {
  sent: Sent[];
} {
  const sent: Sent[] = [];
  return {
    sent,
    json<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      sent.push({ method, path, body });
      const token = (body as { spec: { token: string } }).spec.token;
      const a = answer(token);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve({ status: a } as T);
    },
  };
}

const saUser = {
  username: "system:serviceaccount:ns:sa",
  uid: "abc",
  groups: ["system:serviceaccounts", "system:serviceaccounts:ns"],
  extra: { "authentication.kubernetes.io/pod-name": ["p"] },
};

describe("bearerToken (bearertoken.go)", () => {
  const cases: [string | undefined, string | undefined][] = [
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["BEARER abc", "abc"],
    ["  Bearer abc  ", "abc"],
    ["Bearer abc def", "abc"],
    ["Bearer  abc", undefined],
    ["Bearer", undefined],
    ["Bearer ", undefined],
    ["Basic YWxpY2U6cHc=", undefined],
    ["", undefined],
    [undefined, undefined],
  ];
  for (const [header, want] of cases) {
    test(JSON.stringify(header), () => {
      assert.equal(bearerToken({ authorization: header }), want);
    });
  }
});

describe("TokenReviewAuthenticator", () => {
  test("sends a TokenReview and returns the user", async () => {
    const server = fakeServer(() => ({ authenticated: true, user: saUser }));
    const a = new TokenReviewAuthenticator({ client: server, backoff: NO_RETRY });
    const r = await a.authenticate({ Authorization: "Bearer t1" });
    assert.deepEqual(r, {
      kind: "user",
      user: { name: saUser.username, uid: "abc", groups: saUser.groups, extra: saUser.extra },
    });
    assert.deepEqual(server.sent, [
      {
        method: "POST",
        path: TOKEN_REVIEW_PATH,
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token: "t1" },
        },
      },
    ]);
  });

  test("no bearer token: no opinion, no review", async () => {
    const server = fakeServer(() => ({ authenticated: true, user: saUser }));
    const a = new TokenReviewAuthenticator({ client: server });
    assert.deepEqual(await a.authenticate({}), { kind: "skip" });
    assert.equal(server.sent.length, 0);
  });

  test("a rejected token is an error with the review's reason, or 'invalid bearer token'", async () => {
    const server = fakeServer((t) =>
      t === "expired"
        ? { authenticated: false, error: "token has expired" }
        : { authenticated: false },
    );
    const a = new TokenReviewAuthenticator({ client: server, backoff: NO_RETRY });
    assert.deepEqual(await a.authenticate({ authorization: "Bearer expired" }), {
      kind: "error",
      reason: "token: token has expired",
    });
    assert.deepEqual(await a.authenticate({ authorization: "Bearer junk" }), {
      kind: "error",
      reason: "token: invalid bearer token",
    });
  });

  test("both verdicts are cached for the TTL, per token", async () => {
    let now = 1_000_000;
    const server = fakeServer((t) =>
      t === "good" ? { authenticated: true, user: saUser } : { authenticated: false },
    );
    const a = new TokenReviewAuthenticator({ client: server, now: () => now, backoff: NO_RETRY });
    for (let i = 0; i < 3; i++) {
      assert.equal((await a.authenticate({ authorization: "Bearer good" })).kind, "user");
      assert.equal((await a.authenticate({ authorization: "Bearer bad" })).kind, "error");
    }
    assert.equal(a.reviewsSent, 2);
    now += 9_999;
    await a.authenticate({ authorization: "Bearer good" });
    assert.equal(a.reviewsSent, 2);
    now += 1;
    await a.authenticate({ authorization: "Bearer good" });
    await a.authenticate({ authorization: "Bearer bad" });
    assert.equal(a.reviewsSent, 4);
  });

  test("a configurable TTL; 0 turns caching off", async () => {
    let now = 0;
    const server = fakeServer(() => ({ authenticated: true, user: saUser }));
    const a = new TokenReviewAuthenticator({ client: server, cacheTtlMs: 60_000, now: () => now });
    await a.authenticate({ authorization: "Bearer x" });
    now = 59_999;
    await a.authenticate({ authorization: "Bearer x" });
    assert.equal(a.reviewsSent, 1);
    const off = new TokenReviewAuthenticator({ client: server, cacheTtlMs: 0 });
    await off.authenticate({ authorization: "Bearer x" });
    await off.authenticate({ authorization: "Bearer x" });
    assert.equal(off.reviewsSent, 2);
  });

  test("API errors are not cached and do not throw; transient ones are retried", async () => {
    let fail = 2;
    const server = fakeServer(() =>
      fail-- > 0 ? new KubeApiError(500, "{}", "POST") : { authenticated: true, user: saUser },
    );
    const retrying = new TokenReviewAuthenticator({
      client: server,
      backoff: { initialMs: 1, factor: 1, jitter: 0, steps: 5 },
    });
    assert.equal((await retrying.authenticate({ authorization: "Bearer x" })).kind, "user");
    assert.equal(server.sent.length, 3);

    const forbidden = fakeServer(() => new KubeApiError(403, '{"message":"no"}', "POST /x"));
    const a = new TokenReviewAuthenticator({ client: forbidden });
    const r = await a.authenticate({ authorization: "Bearer x" });
    assert.equal(r.kind, "error");
    assert.match(r.reason, /TokenReview failed: POST \/x: HTTP 403: no/);
    await a.authenticate({ authorization: "Bearer x" });
    assert.equal(forbidden.sent.length, 2, "403 is neither retried nor cached");
  });
});
