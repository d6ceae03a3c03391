/**
 * @module harness/probe
 * Small HTTP(S) GETs used to tell when a component is ready. Loopback only.
 */
import { isTimeout, nodeError, requestPath, sharedAgent } from "../http/client.ts";

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

export async function get(
  url: string,
  tls: TlsMaterial = {},
  timeoutMs = 3000,
): Promise<ProbeResult> {
  const u = new URL(url);
  // Connections are kept for 5 s between probes, as with Node's global agent before.
  const agent = sharedAgent({ tls, timeoutMs, keepAliveMs: 5000 });
  let phase: "response" | "body" = "response";
  try {
    const res = await agent.request({ origin: u.origin, path: requestPath(u), method: "GET" });
    phase = "body";
    return { status: res.statusCode, body: await res.body.text() };
  } catch (e) {
    if (isTimeout(e)) throw new Error(`timeout after ${timeoutMs}ms: ${url}`, { cause: e });
    throw nodeError(e, phase);
  }
}

export async function returns200(url: string, tls: TlsMaterial = {}): Promise<boolean> {
  return (await get(url, tls)).status === 200;
}
