/**
 * @module harness/load
 * A bounded HTTP load generator for loopback targets: a fixed rate for a fixed time, then it stops
 * by itself. Refuses anything that is not a loopback address.
 */
import { isIP } from "node:net";
import { createAgent, requestPath } from "../http/client.ts";

export interface LoadOptions {
  /** Target URLs; requests go round-robin. */
  readonly urls: () => readonly string[];
  readonly ratePerSecond: number;
  readonly durationMs: number;
}

export interface LoadRun {
  readonly sent: () => number;
  readonly failed: () => number;
  stop(): void;
  readonly done: Promise<void>;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1";
}

export function startLoad(o: LoadOptions): LoadRun {
  let sent = 0;
  let failed = 0;
  let i = 0;
  let stopped = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // One keep-alive pool per target for the run (Node's global agent kept them alive too).
  const agent = createAgent({ timeoutMs: 2000, keepAliveMs: 5000 });
  const interval = Math.max(1, Math.round(1000 / o.ratePerSecond));
  const timer = setInterval(() => {
    const urls = o.urls();
    if (urls.length === 0) return;
    const url = new URL(urls[i++ % urls.length] ?? "");
    if (!isLoopback(url.hostname)) {
      // Never send load off this machine: count it as a failure and stop.
      failed++;
      stop();
      return;
    }
    sent++;
    void agent.request({ origin: url.origin, path: requestPath(url), method: "GET" }).then(
      (res) => {
        if (res.statusCode >= 400) failed++;
        // Read to its end and dropped (as res.resume()), so the connection serves the next one.
        res.body.dump({ limit: Number.MAX_SAFE_INTEGER }).catch(() => undefined);
      },
      () => failed++,
    );
  }, interval);
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    clearTimeout(limit);
    // Requests in flight still complete; the connections close after them.
    void agent.close().catch(() => undefined);
    finish();
  };
  const limit = setTimeout(stop, o.durationMs);
  return { sent: () => sent, failed: () => failed, stop, done };
}
