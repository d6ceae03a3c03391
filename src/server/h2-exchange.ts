/**
 * @module server/h2-exchange
 * HTTP/2 requests served straight from their streams, without Node.js' compatibility layer
 * (node:http2 Http2ServerRequest/Http2ServerResponse). That layer builds a Readable and a Stream
 * with a dozen listeners for every request; in a 10,000-HPA burst (hundreds of requests in flight
 * at once, all alive through every young-generation GC) it was about a tenth of the main thread
 * and a quarter of what was allocated. The adapter reads no request bodies and answers with a
 * status, a few headers and one body, so a stream and its headers are all a request needs.
 *
 * What the compatibility layer did that still matters is kept: CONNECT gets 405 and an `Expect`
 * other than `100-continue` gets 417 (lib/internal/http2/compat.js onServerStream); HEAD gets
 * headers only; a `date` header (ServerHttp2Stream.respond adds it); stream errors (a client's
 * reset) end that stream only.
 */
import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { TLSSocket } from "node:tls";
import type { Response } from "./api-server.ts";

/** What the filters read of a request: the same names as node:http's IncomingMessage. */
export class H2Request {
  readonly url: string;
  readonly method: string;
  readonly stream: { readonly session: Http2Session | undefined };
  /** Names and values, alternating, as received (pseudo-headers included). */
  readonly rawHeaders: string[];

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) {
    this.stream = stream;
    this.url = headers[":path"] ?? "/";
    this.method = headers[":method"] ?? "GET";
    this.rawHeaders = rawHeaders;
  }

  /** The connection's TLS socket, for its client certificate. */
  get socket(): TLSSocket {
    return this.stream.session?.socket as TLSSocket;
  }
}

const ignore = (): void => undefined;

/** A response written to its stream: headers gathered until the first write, as http's. */
export class H2Response implements Response {
  statusCode = 200;
  readonly #stream: ServerHttp2Stream;
  readonly #headers: Record<string, string | number> = {};
  /** Run once when the stream closes: one stream listener for all (in-flight place, ticket, …). */
  #onClose: (() => void)[] | undefined;

  constructor(stream: ServerHttp2Stream) {
    this.#stream = stream;
    // A reset or a broken connection destroys the stream with an error; it ends this exchange
    // only ("close" follows), never the process (an 'error' event nobody listens to throws).
    stream.on("error", ignore);
  }

  get headersSent(): boolean {
    return this.#stream.headersSent;
  }

  setHeader(name: string, value: string): this {
    this.#headers[name.toLowerCase()] = value;
    return this;
  }

  /** Sends the headers if not yet sent; false when the stream can take nothing more. */
  #begin(): boolean {
    const s = this.#stream;
    if (s.destroyed || s.closed) return false;
    if (!s.headersSent) {
      this.#headers[":status"] = this.statusCode;
      s.respond(this.#headers);
    }
    // respond() ends a HEAD request's stream by itself: there is no body to send.
    return !s.writableEnded;
  }

  write(data: string, encoding: BufferEncoding): boolean {
    return this.#begin() ? this.#stream.write(data, encoding) : true;
  }

  end(data?: string, encoding?: BufferEncoding): this {
    if (this.#begin()) {
      if (data === undefined) this.#stream.end();
      else this.#stream.end(data, encoding ?? "utf8");
    }
    return this;
  }

  once(event: "drain" | "close", listener: () => void): this {
    if (event === "drain") {
      this.#stream.once(event, listener);
      return this;
    }
    if (this.#onClose === undefined) {
      const listeners = [listener];
      this.#onClose = listeners;
      this.#stream.once("close", () => {
        for (const l of listeners) l();
      });
    } else this.#onClose.push(listener);
    return this;
  }
}

/**
 * Turns a server stream into a request and response for `serve`, answering at once what the
 * compatibility layer answered itself (CONNECT, unmet expectations). A request body is never
 * read: once the answer has ended, node:http2 closes the stream with RST_STREAM NO_ERROR.
 */
export function serveStream(
  serve: (req: H2Request, res: H2Response) => void,
): (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void {
  return (stream, headers, _flags, rawHeaders) => {
    const res = new H2Response(stream);
    const expect = headers.expect;
    if (headers[":method"] === "CONNECT") {
      res.statusCode = 405;
      res.end();
      return;
    }
    if (expect !== undefined && expect !== "100-continue") {
      res.statusCode = 417;
      res.end();
      return;
    }
    serve(new H2Request(stream, headers, rawHeaders), res);
  };
}
