/**
 * @module test/chaos/floods
 * Connection faults against the adapter's own port, as a misbehaving client or a scanner would
 * cause them: many half-open connections (a TLS record header, then silence), and many
 * concurrent HTTP/2 streams of real requests with the aggregator's front-proxy credentials.
 */
import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import { connect, type Socket } from "node:net";
import { readFile } from "node:fs/promises";
import type { ClusterInfo } from "../../src/harness/cluster.ts";

export interface HalfOpen {
  /** Connections that were open at the peak. */
  readonly opened: number;
  release(): void;
}

/** Opens `count` connections to 127.0.0.1:`port`, each sending 5 bytes of a TLS record header. */
export async function halfOpen(port: number, count: number): Promise<HalfOpen> {
  const sockets: Socket[] = [];
  let opened = 0;
  // Batches of 200, so the listen backlog is not what is measured.
  for (let i = 0; i < count; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, () => {
        return new Promise<void>((resolve) => {
          const s = connect({ host: "127.0.0.1", port });
          sockets.push(s);
          s.on("error", () => {
            resolve();
          });
          s.on("connect", () => {
            opened++;
            // A handshake record announcing 512 bytes that never come.
            s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
            resolve();
          });
          s.setTimeout(10_000, () => {
            resolve();
          });
        });
      }),
    );
  }
  return {
    opened,
    release() {
      for (const s of sockets) s.destroy();
    },
  };
}

export interface StreamFlood {
  /** Status (or error) → count. */
  readonly outcomes: Record<string, number>;
  readonly longestMs: number;
}

/**
 * `sessions` HTTP/2 connections to the adapter with `streamsEach` requests for `path` each, all
 * sent at once (the adapter allows 100 concurrent streams per connection by default).
 */
export async function streamFlood(
  info: ClusterInfo,
  port: number,
  path: string,
  sessions: number,
  streamsEach: number,
): Promise<StreamFlood> {
  const [cert, key] = await Promise.all([
    readFile(info.pki.frontProxyClientCert, "utf8"),
    readFile(info.pki.frontProxyClientKey, "utf8"),
  ]);
  const outcomes: Record<string, number> = {};
  let longestMs = 0;
  const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  const open: ClientHttp2Session[] = [];
  try {
    await Promise.all(
      Array.from({ length: sessions }, async () => {
        // Loopback to a certificate made for the Service name: the name is not checked here.
        const s = http2Connect(`https://127.0.0.1:${String(port)}`, {
          cert,
          key,
          rejectUnauthorized: false,
        });
        open.push(s);
        s.on("error", () => undefined);
        await Promise.all(
          Array.from(
            { length: streamsEach },
            () =>
              new Promise<void>((resolve) => {
                const start = Date.now();
                let finished = false;
                const finish = (k: string) => {
                  if (finished) return;
                  finished = true;
                  longestMs = Math.max(longestMs, Date.now() - start);
                  count(k);
                  resolve();
                };
                const req = s.request({
                  ":path": path,
                  "x-remote-user": "kcm-chaos",
                  "x-remote-group": "system:masters",
                });
                req.setTimeout(60_000, () => {
                  req.close();
                });
                let status = "no-response";
                req.on("response", (h) => (status = String(h[":status"])));
                req.on("data", () => undefined);
                req.on("end", () => {
                  finish(status);
                });
                req.on("error", (e: NodeJS.ErrnoException) => {
                  finish(e.code ?? "error");
                });
                req.on("close", () => {
                  finish(status);
                });
                req.end();
              }),
          ),
        );
      }),
    );
  } finally {
    for (const s of open) s.destroy();
  }
  return { outcomes, longestMs };
}
