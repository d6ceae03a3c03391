/**
 * @module harness/probe
 * Small HTTP(S) GETs used to tell when a component is ready. Loopback only.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";

export interface ProbeResult {
  readonly status: number;
  readonly body: string;
}

export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecure?: boolean;
}

export function get(url: string, tls: TlsMaterial = {}, timeoutMs = 3000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const opts: RequestOptions = { method: "GET", timeout: timeoutMs };
    if (tls.ca !== undefined) opts.ca = tls.ca;
    if (tls.cert !== undefined) opts.cert = tls.cert;
    if (tls.key !== undefined) opts.key = tls.key;
    if (tls.insecure) opts.rejectUnauthorized = false;
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs}ms: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

export async function returns200(url: string, tls: TlsMaterial = {}): Promise<boolean> {
  return (await get(url, tls)).status === 200;
}
