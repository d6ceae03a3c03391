/**
 * @module server/write-body.test
 * writeBody: the bytes are the UTF-8 of the text whatever the slicing (surrogate pairs kept
 * whole), ASCII goes as latin1, long bodies wait for "drain" and stop once the stream closes; and
 * the same bodies over real HTTP/2 and HTTP/1.1 connections.
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { createServer, request as http1Request } from "node:http";
import { connect, createServer as createH2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import { BODY_SLICE, writeBody, type Response } from "./api-server.ts";

/** A response that records what is written and reports backpressure every `every` writes. */
class FakeResponse extends EventEmitter implements Response {
  statusCode = 0;
  readonly headers = new Map<string, string>();
  readonly chunks: { data: string; encoding: BufferEncoding | undefined }[] = [];
  ended = false;
  writes = 0;
  readonly #every: number;
  constructor(every = 0) {
    super();
    this.#every = every;
  }
  setHeader(name: string, value: string): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  write(data: string, encoding: BufferEncoding): boolean {
    assert.ok(!this.ended, "write after end");
    this.chunks.push({ data, encoding });
    this.writes++;
    return this.#every === 0 || this.writes % this.#every !== 0;
  }
  end(data: string, encoding?: BufferEncoding): this {
    this.chunks.push({ data, encoding });
    this.ended = true;
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => Buffer.from(c.data, c.encoding ?? "utf8")));
  }
  /** Emits "drain" until the body has ended (bounded). */
  drainAll(): void {
    for (let i = 0; i < 10_000 && !this.ended; i++) this.emit("drain");
  }
}

describe("writeBody", () => {
  test("a short body goes in one end(), as latin1 when ASCII", () => {
    const res = new FakeResponse();
    writeBody(res, '{"a":"b"}');
    assert.deepEqual(res.chunks, [{ data: '{"a":"b"}', encoding: "latin1" }]);
    assert.equal(res.headers.get("content-length"), undefined);
    const utf = new FakeResponse();
    writeBody(utf, '{"a":"é"}');
    assert.deepEqual(utf.chunks, [{ data: '{"a":"é"}', encoding: "utf8" }]);
  });

  test("a long body goes in slices, waits for drain, and sets Content-Length", () => {
    const text = "x".repeat(BODY_SLICE * 5 + 7);
    const res = new FakeResponse(2);
    writeBody(res, text);
    assert.equal(res.ended, false, "waits for drain after a full write");
    assert.equal(res.chunks.length, 2);
    res.drainAll();
    assert.equal(res.ended, true);
    assert.ok(res.chunks.every((c) => c.data.length <= BODY_SLICE && c.encoding === "latin1"));
    assert.equal(res.bytes().toString("latin1"), text);
    assert.equal(res.headers.get("content-length"), String(text.length));
  });

  test("stops writing once the stream has closed", () => {
    const res = new FakeResponse(1);
    writeBody(res, "y".repeat(BODY_SLICE * 4));
    assert.equal(res.chunks.length, 1);
    res.emit("close");
    res.emit("drain");
    assert.equal(res.chunks.length, 1);
    assert.equal(res.ended, false);
  });

  test("any text: the bytes are its UTF-8, surrogate pairs never split", () => {
    // Long runs of one character around the slice boundary, so pairs land on it.
    const piece = fc.oneof(
      fc.string({ unit: "binary", maxLength: 40 }),
      fc
        .tuple(fc.constantFrom("a", "é", "😀", "\ud800", "日"), fc.nat(BODY_SLICE + 3))
        .map(([c, n]) => c.repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.nat(3), (pieces, every) => {
        const text = pieces.join("");
        const res = new FakeResponse(every);
        writeBody(res, text);
        res.drainAll();
        assert.equal(res.ended, true);
        assert.ok(res.bytes().equals(Buffer.from(text, "utf8")));
        const length = res.headers.get("content-length");
        if (length !== undefined) assert.equal(Number(length), Buffer.byteLength(text));
      }),
      { numRuns: 60 },
    );
  });
});

describe("writeBody over real connections", () => {
  const bodies = ["small", `[${'"abc",'.repeat(50_000)}"end"]`, `${"é😀".repeat(30_000)}x`];

  test("HTTP/2 (the aggregator's transport)", async () => {
    const server = createH2Server((_req, res) => {
      const i = Number(_req.url.slice(1));
      res.statusCode = 200;
      writeBody(res, bodies[i] ?? "");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const session = connect(`http://127.0.0.1:${String(port)}`);
    try {
      for (const [i, body] of bodies.entries()) {
        const stream = session.request({ ":path": `/${String(i)}` });
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        const [headers] = (await once(stream, "response")) as [Record<string, unknown>];
        await once(stream, "end");
        assert.ok(Buffer.concat(chunks).equals(Buffer.from(body, "utf8")), `body ${String(i)}`);
        if (body.length > BODY_SLICE) {
          assert.equal(headers["content-length"], String(Buffer.byteLength(body)));
        }
      }
    } finally {
      session.close();
      server.close();
    }
  });

  test("HTTP/1.1", async () => {
    const server = createServer((req, res) => {
      res.statusCode = 200;
      writeBody(res, bodies[Number((req.url ?? "/").slice(1))] ?? "");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      for (const [i, body] of bodies.entries()) {
        const got = await new Promise<{ body: Buffer; length: string | undefined }>(
          (resolve, reject) => {
            http1Request({ host: "127.0.0.1", port, path: `/${String(i)}` }, (r) => {
              const chunks: Buffer[] = [];
              r.on("data", (c: Buffer) => chunks.push(c));
              r.on("end", () => {
                resolve({ body: Buffer.concat(chunks), length: r.headers["content-length"] });
              });
              r.on("error", reject);
            })
              .on("error", reject)
              .end();
          },
        );
        assert.ok(got.body.equals(Buffer.from(body, "utf8")), `body ${String(i)}`);
        assert.equal(got.length, String(Buffer.byteLength(body)));
      }
    } finally {
      server.close();
    }
  });
});
