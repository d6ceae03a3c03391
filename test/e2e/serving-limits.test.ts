/**
 * @module test/serving-limits
 * HTTP/2 and header limits of the HTTPS server (server/secure-serving.ts), on a real server in
 * this process and real node:http2 / node:https clients over 127.0.0.1: the SETTINGS it
 * advertises, at most that many streams at once, an oversized header list ending only its own
 * stream, what nghttp2 cannot decode (the connection ends, the server serves on), and HTTP/1.1's
 * 431. No cluster needed: `node --import tsx --test test/e2e/serving-limits.test.ts`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import {
  connect as http2Connect,
  constants as h2,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DEFAULT_HTTP2_MAX_STREAMS,
  MAX_HEADER_LIST_BYTES,
  listenSecure,
  type SecureRequest,
  type SecureResponse,
  type SecureServer,
  type ServingOptions,
} from "../../src/server/secure-serving.ts";

const T = { timeout: 60_000 };

interface Served {
  readonly secure: SecureServer;
  readonly url: string;
  readonly ca: string;
  /** Requests the handler holds now, and the most it held at once. */
  readonly held: { now: number; max: number };
  /** Lets every held request (and those still to come) answer. */
  release(): void;
  /** Holds `/hold` requests again. */
  rearm(): void;
}

/**
 * The server with a handler of our own: `/hold` waits for release(); every answer is JSON with
 * the number of header fields the handler saw.
 */
async function serve(certDir: string, extra: Partial<ServingOptions> = {}): Promise<Served> {
  const held = { now: 0, max: 0 };
  let open: () => void = () => undefined;
  let released = new Promise<void>((resolve) => (open = resolve));
  const handler = (req: SecureRequest, res: SecureResponse) => {
    const answer = () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ fields: req.rawHeaders.length / 2 }));
    };
    if (req.url !== "/hold") {
      answer();
      return;
    }
    held.now++;
    held.max = Math.max(held.max, held.now);
    void released.then(() => {
      held.now--;
      answer();
    });
  };
  const secure = await listenSecure(
    { bindAddress: "127.0.0.1", port: 0, certDir, clientCaPem: () => "", ...extra },
    handler,
  );
  const { port } = secure.server.address() as AddressInfo;
  return {
    secure,
    url: `https://127.0.0.1:${String(port)}`,
    ca: await readFile(secure.certFile, "utf8"),
    held,
    release() {
      open();
      released = Promise.resolve();
    },
    rearm() {
      released = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

interface H2Result {
  readonly status?: number;
  readonly body?: unknown;
  /** RST_STREAM code when the stream was reset instead of answered. */
  readonly rstCode?: number;
  readonly error?: string;
}

function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<H2Result> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let body = "";
    const stream = session.request({ ":path": "/", ...headers });
    stream.setEncoding("utf8");
    stream.on("response", (h: IncomingHttpHeaders) => (status = Number(h[":status"])));
    stream.on("data", (d: string) => (body += d));
    stream.on("error", (e: NodeJS.ErrnoException) => {
      resolve({ rstCode: stream.rstCode, error: e.code ?? e.message });
    });
    stream.on("close", () => {
      resolve(
        status === undefined
          ? { rstCode: stream.rstCode }
          : { status, body: JSON.parse(body) as unknown },
      );
    });
    stream.end();
  });
}

async function h2Session(url: string, ca: string, opts: object = {}): Promise<ClientHttp2Session> {
  const session = http2Connect(url, { ca, ...opts });
  session.on("error", () => undefined);
  await once(session, "remoteSettings");
  return session;
}

function h1Request(
  url: string,
  ca: string,
  headers: Record<string, string | string[]>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${url}/`,
      // The client's own limit must not be the one under test.
      { ca, headers, maxHeaderSize: 1 << 20, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** `count` distinct values of `size` characters (distinct, so HPACK cannot index them away). */
function values(count: number, size: number): string[] {
  return Array.from({ length: count }, (_, i) => `${String(i)}-`.padEnd(size, "v"));
}

describe("HTTPS serving limits", () => {
  let certDir: string;
  let dflt: Served;
  const stops: Served[] = [];

  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), "kcm-limits-"));
    dflt = await serve(certDir);
    stops.push(dflt);
    dflt.release();
  });

  after(async () => {
    for (const s of stops) await s.secure.shutdown(0);
    await rm(certDir, { recursive: true, force: true });
  });

  test("SETTINGS: 100 concurrent streams and a 64 KiB header list by default", T, async () => {
    const session = await h2Session(dflt.url, dflt.ca);
    try {
      assert.equal(DEFAULT_HTTP2_MAX_STREAMS, 100);
      assert.equal(MAX_HEADER_LIST_BYTES, 65_536);
      assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
      assert.equal(session.remoteSettings.maxHeaderListSize, 65_536);
    } finally {
      session.close();
    }
  });

  test("--http2-max-streams-per-connection is advertised and enforced", T, async () => {
    const s = await serve(certDir, { http2MaxStreamsPerConnection: 7 });
    stops.push(s);
    const session = await h2Session(s.url, s.ca);
    try {
      assert.equal(session.remoteSettings.maxConcurrentStreams, 7);
      // 20 requests at once: the client holds back what the server's limit does not allow.
      const replies = Array.from({ length: 20 }, () => h2Request(session, { ":path": "/hold" }));
      for (let i = 0; i < 100 && s.held.now < 7; i++) await sleep(20);
      await sleep(200);
      assert.equal(s.held.now, 7);
      s.release();
      const results = await Promise.all(replies);
      assert.deepEqual(
        results.map((r) => r.status),
        Array.from({ length: 20 }, () => 200),
      );
      assert.equal(s.held.max, 7);
    } finally {
      session.close();
    }
  });

  test("0 means the default, as in the generic apiserver", T, async () => {
    const s = await serve(certDir, { http2MaxStreamsPerConnection: 0 });
    stops.push(s);
    const session = await h2Session(s.url, s.ca);
    try {
      assert.equal(session.remoteSettings.maxConcurrentStreams, DEFAULT_HTTP2_MAX_STREAMS);
    } finally {
      session.close();
    }
  });

  test(
    "a header list over 64 KiB resets only its stream; requests beside it are answered",
    T,
    async () => {
      const s = await serve(certDir);
      stops.push(s);
      // A client that ignores the advertised limit (Node.js' client does not check it).
      const session = await h2Session(s.url, s.ca, { maxSendHeaderBlockLength: 1 << 20 });
      try {
        const beside = h2Request(session, { ":path": "/hold" });
        for (let i = 0; i < 100 && s.held.now < 1; i++) await sleep(20);
        assert.equal(s.held.now, 1);
        // 80 KiB in two fields: each fits HPACK's per-field bound, the list does not fit ours.
        const over = await h2Request(session, { "x-big": values(2, 40_000) });
        assert.deepEqual(over, {
          rstCode: h2.NGHTTP2_ENHANCE_YOUR_CALM,
          error: "ERR_HTTP2_STREAM_ERROR",
        });
        s.release();
        assert.equal((await beside).status, 200);
        // The session goes on: a list just under the limit, in 900 fields (a user in 900 groups
        // sends one X-Remote-Group field each; 900 × (14 + 20 + 32) bytes), is served on it.
        const groups = values(900, 20);
        const under = await h2Request(session, { "x-remote-group": groups });
        assert.deepEqual(under, { status: 200, body: { fields: 900 + 4 } });
        assert.equal(session.destroyed, false);
      } finally {
        session.close();
      }
    },
  );

  test(
    "a compliant client does not send a list over the advertised limit; the connection stays",
    T,
    async () => {
      // Node.js' client, like Go's, refuses to send a header block past its own bound: only the
      // stream fails, locally. Go's transport (the aggregator) checks SETTINGS_MAX_HEADER_LIST_SIZE.
      const session = await h2Session(dflt.url, dflt.ca);
      try {
        const big = await h2Request(session, { "x-big": "a".repeat(300_000) });
        assert.equal(big.status, undefined);
        assert.equal(big.rstCode, h2.NGHTTP2_REFUSED_STREAM);
        assert.equal((await h2Request(session, {})).status, 200);
      } finally {
        session.close();
      }
    },
  );

  test(
    "documented: a 300 KB header block nghttp2 cannot decode ends that connection, never the server",
    T,
    async () => {
      // What a client ignoring the advertised 64 KiB can do: one field over 64 KiB encoded, or a
      // block of more than 9 frames, is a connection error in nghttp2 (GOAWAY), which takes the
      // requests in flight on that connection with it. This is what the advertised limit keeps
      // the aggregator from sending (test/e2e/aggregator-header-limit.test.ts); only a client's own
      // connection can end this way.
      const s = await serve(certDir);
      stops.push(s);
      for (const headers of [{ "x-big": values(1, 300_000) }, { "x-big": values(20, 15_000) }]) {
        const session = await h2Session(s.url, s.ca, { maxSendHeaderBlockLength: 1 << 22 });
        const goaway = once(session, "goaway") as Promise<[number]>;
        try {
          const inFlight = h2Request(session, { ":path": "/hold" });
          for (let i = 0; i < 100 && s.held.now < 1; i++) await sleep(20);
          assert.equal(s.held.now, 1);
          const r = await h2Request(session, headers);
          assert.equal(r.status, undefined);
          const [code] = await goaway;
          assert.ok(
            [h2.NGHTTP2_COMPRESSION_ERROR, h2.NGHTTP2_INTERNAL_ERROR].includes(code),
            `GOAWAY ${String(code)}`,
          );
          assert.equal((await inFlight).status, undefined, "the request in flight is lost too");
        } finally {
          session.destroy();
        }
        // The server serves on: a fresh connection is answered.
        s.release();
        const fresh = await h2Session(s.url, s.ca);
        assert.equal((await h2Request(fresh, {})).status, 200);
        fresh.close();
        s.rearm();
      }
    },
  );

  test("HTTP/1.1: 431 past 64 KiB, served below it, no limit on the field count", T, async () => {
    // Both servers: HTTP/1.1 beside h2 (ALPN), and --disable-http2's plain HTTPS server.
    for (const s of [dflt, await serve(certDir, { http1Only: true })]) {
      if (s !== dflt) {
        stops.push(s);
        s.release();
      }
      const under = await h1Request(s.url, s.ca, { "x-big": "a".repeat(60_000) });
      assert.equal(under.status, 200);
      // Just over, and far over while the client is still sending: the answer arrives either way.
      for (const size of [70_000, 300_000, 1_000_000]) {
        const over = await h1Request(s.url, s.ca, { "x-big": "a".repeat(size) });
        assert.equal(over.status, 431, String(size));
      }
      // Node.js' HTTP/1.1 parser would silently drop fields past 2,000 (3,000 × 12 bytes here).
      const many = await h1Request(s.url, s.ca, { "x-g": values(3_000, 5) });
      assert.equal(many.status, 200);
      assert.ok(
        (JSON.parse(many.body) as { fields: number }).fields >= 3_000,
        `fields seen: ${many.body}`,
      );
    }
  });
});
